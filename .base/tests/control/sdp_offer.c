/* Prints an offer as mmctld builds it (control/sdp.c) for a participant of
 * a room where one other participant "pOther" publishes a microphone and a
 * camera with RTX, and an earlier screen share of it is gone (inactive).
 * Used to make the answers in tests/control/sdp/ (see the README there). */
#include <stdio.h>
#include <stdlib.h>

#include "control/sdp.h"

int main(void)
{
	const struct ctl_sdp_send send[] = {
		{ .mid = 1, .active = true, .kind = CTL_SDP_MIC, .publisher = "pOther",
		  .ssrc = 1001 },
		{ .mid = 2, .active = true, .kind = CTL_SDP_CAM, .publisher = "pOther",
		  .ssrc = 2001, .rtx_ssrc = 2002, .has_rtx = true },
		{ .mid = 3, .active = false, .kind = CTL_SDP_SCR, .publisher = "pOther",
		  .ssrc = 3001 },
	};
	const struct ctl_sdp_offer o = {
		.session_id = 4242, .version = 1, .ice_ufrag = "mmUfrag1",
		.ice_pwd = "mmdpPassword0123456789ab",
		.fingerprint = "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
			       "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
		.addr = "127.0.0.1", .port = 40000, .send = send, .nsend = 3,
	};
	char *s = ctl_sdp_offer_build(&o);
	if (!s)
		return 1;
	fputs(s, stdout);
	free(s);
	return 0;
}
