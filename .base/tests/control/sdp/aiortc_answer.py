# Answers an offer mmctld built (stdin) with aiortc: microphone, camera and
# no screen share sent; the other participant's streams received.
import asyncio, sys
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

async def main():
    offer = sys.stdin.read()
    pc = RTCPeerConnection()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    for t in pc.getTransceivers():
        if t.mid == "mic":
            t.sender.replaceTrack(AudioStreamTrack()); t.direction = "sendonly"
        elif t.mid == "cam":
            t.sender.replaceTrack(VideoStreamTrack()); t.direction = "sendonly"
        elif t.mid == "scr":
            t.direction = "inactive"
        else:
            t.direction = "recvonly" if t.direction != "inactive" else "inactive"
    ans = await pc.createAnswer()
    await pc.setLocalDescription(ans)
    sys.stdout.write(pc.localDescription.sdp)
    await pc.close()

asyncio.run(main())
