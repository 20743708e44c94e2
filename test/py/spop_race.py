"""Pops a set empty from several redis-py clients at once and prints what each popped, as JSON.

Input (stdin, JSON): {"port": n, "mode": "cluster" | "plain", "key": k, "clients": c, "count": n}
  Each client (its own connection, its own thread) sends SPOP key count (count 0: SPOP key)
  until the set is gone.
Output (stdout, JSON): {"smembers": [...members before popping...], "popped": [[...], ...]}
"""
import json
import sys
import threading

import redis
from redis.cluster import RedisCluster


def connect(spec):
    if spec["mode"] == "cluster":
        return RedisCluster(host="127.0.0.1", port=spec["port"], decode_responses=True)
    return redis.Redis(host="127.0.0.1", port=spec["port"], decode_responses=True)


def main():
    spec = json.load(sys.stdin)
    key, count = spec["key"], spec["count"]
    before = sorted(connect(spec).smembers(key))
    popped = [[] for _ in range(spec["clients"])]
    errors = []
    barrier = threading.Barrier(spec["clients"])

    def worker(i):
        try:
            client = connect(spec)
            barrier.wait()
            while True:
                if count == 0:
                    member = client.spop(key)
                    if member is None:
                        return
                    popped[i].append(member)
                else:
                    members = client.spop(key, count)
                    if not members:
                        return
                    popped[i].extend(members)
        except Exception as e:  # reported, so the test fails with the cause
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(spec["clients"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    json.dump({"smembers": before, "popped": popped, "errors": errors}, sys.stdout)


main()
