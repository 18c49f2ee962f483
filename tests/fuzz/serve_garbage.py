#!/usr/bin/env python3
# tests/fuzz/serve_garbage.py - throws malformed requests at a running `eosight serve` (mutated
# images and forms, broken JSON, mangled request lines and paths, random bytes, early hang-ups)
# for D seconds; the server must stay up and, in an ASan/UBSan build, report nothing.
#   build-asan/eosight serve --port 18083 --catalog c.sqlite &   # from the repository root
#   python3 tests/fuzz/serve_garbage.py 18083 90 && curl -s 127.0.0.1:18083/healthz
import socket, random, sys, time, os
port = int(sys.argv[1]); dur = float(sys.argv[2])
random.seed(7)
imgs = [open(f,'rb').read() for f in ['tests/fuzz/corpus/raster/rgb.jpg','tests/fuzz/corpus/raster/u8_striped_lzw_4326.tif']]
paths = ['/v1/classify','/v1/tag','/v1/clouds','/v1/segment','/v1/classify-at','/v1/scenes','/v1/scenes/1',
         '/v1/scenes/1/predictions','/v1/tiles/3/4/2.png','/v1/models','/metrics','/openapi.json','/','/map',
         '/v1/scenes/99999999999999999999','/v1/tiles/99/1/1.png','/v1/scenes/1/segment','/assets/../../etc/passwd']
def mutate(b):
    b = bytearray(b)
    for _ in range(random.randint(0, 20)):
        if not b: break
        i = random.randrange(len(b)); b[i] = random.randrange(256)
    if random.random() < 0.3: b = b[:random.randrange(len(b)+1)]
    return bytes(b)
n = 0; t0 = time.time()
while time.time() - t0 < dur:
    kind = random.random()
    p = random.choice(paths)
    q = random.choice(['', '?top_k=3', '?tta=4', '?model=%00', '?threshold=0.1,0.2', '?bbox=1,2,3,4', '?format=geojson&limit=0', '?outputs=mask_png', '?window=64&overlap=8', '?point=1e400,2'])
    if kind < 0.4:
        body = mutate(random.choice(imgs))
        ct = random.choice(['application/octet-stream', 'multipart/form-data; boundary=xyz', 'multipart/form-data', 'application/json'])
        if ct.startswith('multipart/form-data; boundary') and random.random() < 0.7:
            body = b'--xyz\r\nContent-Disposition: form-data; name="image"\r\n\r\n' + body + (b'\r\n--xyz--\r\n' if random.random()<0.7 else b'')
        req = b'POST ' + (p+q).encode() + b' HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: ' + ct.encode() + b'\r\nContent-Length: ' + str(len(body)).encode() + b'\r\n\r\n' + body
    elif kind < 0.6:
        body = mutate(b'{"lat": 45.1, "lon": 14.1, "model": "clouds"}')
        req = b'POST /v1/classify-at HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ' + str(len(body)).encode() + b'\r\n\r\n' + body
    elif kind < 0.8:
        req = mutate(b'GET ' + (p+q).encode() + b' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    else:
        req = os.urandom(random.randint(1, 400))
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=5)
        s.sendall(req)
        if random.random() < 0.1: s.close(); n += 1; continue   # hang up early
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536): pass
        s.close()
    except Exception as e:
        pass
    n += 1
print("requests", n)
