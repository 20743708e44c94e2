"""redis-py pub/sub against one node: subscribe and psubscribe, publish from a second client,
read every message with get_message, unsubscribe. Prints what was received as JSON."""
import json
import sys
import time

import redis

spec = json.loads(sys.stdin.read())
pub = redis.Redis(port=spec["port"], decode_responses=True)
sub = redis.Redis(port=spec["port"], decode_responses=True)
p = sub.pubsub()
p.subscribe("py:a", "py:b")
p.psubscribe("py:*")
received = []
confirmations = []
deadline = time.time() + 10
while len(confirmations) < 3 and time.time() < deadline:
    m = p.get_message(timeout=1)
    if m:
        confirmations.append([m["type"], m["channel"], m["data"]])
counts = [pub.publish("py:a", "1"), pub.publish("py:b", "2"), pub.publish("py:c", "3")]
while len(received) < 5 and time.time() < deadline:
    m = p.get_message(timeout=1)
    if m:
        received.append([m["type"], m.get("pattern"), m["channel"], m["data"]])
numsub = pub.pubsub_numsub("py:a", "py:none")
numpat = pub.pubsub_numpat()
p.unsubscribe("py:a")
p.punsubscribe()
after = []
while len(after) < 2 and time.time() < deadline:
    m = p.get_message(timeout=1)
    if m:
        after.append([m["type"], m["channel"], m["data"]])
counts_after = [pub.publish("py:a", "x"), pub.publish("py:b", "y")]
last = p.get_message(timeout=2)
p.close()
print(json.dumps({
    "confirmations": confirmations, "counts": counts, "received": received,
    "numsub": [[c, n] for c, n in numsub], "numpat": numpat, "after": after,
    "counts_after": counts_after, "last": [last["type"], last["channel"], last["data"]] if last else None,
}))
