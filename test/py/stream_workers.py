"""Runs a job queue on a stream with redis-py workers and prints what happened, as JSON.

Input (stdin, JSON): {"port": n, "mode": "cluster" | "plain", "key": k, "jobs": n, "workers": w}
  A producer adds `jobs` entries (XADD *, MAXLEN ~ far above the job count); `workers` threads,
  each its own consumer of group "workers", loop on XREADGROUP COUNT 5 BLOCK 200 and XACK what they
  read, until every job was acknowledged. Then one consumer claims nothing left (XAUTOCLAIM) and
  the script reads the group's state back through redis-py's parsed replies.
Output (stdout, JSON): {"added": [ids], "done": [[worker, id, job]...], "pending": ..., "info": ...,
  "groups": ..., "autoclaim": ..., "claimed": ...}
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
    key, jobs, workers = spec["key"], spec["jobs"], spec["workers"]
    r = connect(spec)
    r.delete(key)
    r.xgroup_create(key, "workers", id="$", mkstream=True)
    added = [r.xadd(key, {"job": str(i)}, maxlen=100000, approximate=True) for i in range(jobs)]
    done = []
    lock = threading.Lock()
    finished = threading.Event()

    def worker(i):
        c = connect(spec)
        name = "w%d" % i
        while not finished.is_set():
            got = c.xreadgroup("workers", name, {key: ">"}, count=5, block=200)
            for _stream, entries in got or []:
                for entry_id, fields in entries:
                    c.xack(key, "workers", entry_id)
                    with lock:
                        done.append([name, entry_id, fields["job"]])
                        if len(done) >= jobs:
                            finished.set()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    finished.wait(60)
    finished.set()
    for t in threads:
        t.join()
    # One entry left pending on purpose, to be claimed by another consumer.
    extra = r.xadd(key, {"job": "extra"})
    r.xreadgroup("workers", "slow", {key: ">"}, count=1)
    claimed = r.xclaim(key, "workers", "rescuer", 0, [extra])
    autoclaim = r.xautoclaim(key, "workers", "rescuer2", 0, "0-0", count=10)
    pending = r.xpending(key, "workers")
    info = r.xinfo_stream(key)
    groups = r.xinfo_groups(key)
    print(json.dumps({
        "added": added,
        "done": done,
        "pending": pending,
        "info": {"length": info["length"], "last-generated-id": info["last-generated-id"], "groups": info["groups"],
                 "first": info["first-entry"][0], "last": info["last-entry"][0]},
        "groups": groups,
        "claimed": [[e[0], e[1]] for e in claimed],
        "autoclaim": [autoclaim[0], [[e[0], e[1]] for e in autoclaim[1]], autoclaim[2]],
        "extra": extra,
    }))


main()
