# Answers an offer mmctld built (argv[1]) in headless Chromium (selenium +
# chromedriver), through page.html served from 127.0.0.1; prints the answer.
import http.server, socketserver, sys, threading, os, json
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

os.chdir(os.path.dirname(os.path.abspath(__file__)))
offer = open(sys.argv[1]).read()
srv = socketserver.TCPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ["--headless=new", "--no-sandbox", "--use-fake-device-for-media-stream",
          "--use-fake-ui-for-media-stream", "--disable-gpu"]:
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
try:
    d.get("http://127.0.0.1:%d/page.html" % srv.server_address[1])
    d.set_script_timeout(30)
    r = d.execute_async_script("answer(arguments[0]).then(arguments[1]).catch(e => arguments[1]({err: String(e)}))", offer)
    if 'err' in r:
        sys.exit("page: " + r['err'])
    sys.stderr.write("UA: %s\ncam encodings: %s\n" % (r['ua'], r['enc']))
    sys.stdout.write(r['sdp'])
finally:
    d.quit(); srv.shutdown()
