"""Runs pipelines through redis-py and prints their replies as JSON, for the TypeScript tests to check.

Input (stdin, JSON): {"port": n, "mode": "cluster" | "plain", "transaction": bool, "pipelines": [[argv, ...], ...]}
  cluster: RedisCluster(...).pipeline(), the ClusterPipeline apps use against a Redis Cluster
  plain:   Redis(...).pipeline(transaction=...), a single-node client (cluster-proxy mode)
Output (stdout, JSON): one list of replies per pipeline, in command order. Replies keep redis-py's
decoded form (SET gives true, SETNX a bool); an error reply becomes {"error": "<message>"}.
"""
import json
import sys

import redis
from redis.cluster import RedisCluster


def encode(value):
    if isinstance(value, Exception):
        return {"error": str(value)}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def main():
    spec = json.load(sys.stdin)
    if spec["mode"] == "cluster":
        client = RedisCluster(host="127.0.0.1", port=spec["port"], decode_responses=True)
        make_pipe = client.pipeline
    else:
        client = redis.Redis(host="127.0.0.1", port=spec["port"], decode_responses=True)
        make_pipe = lambda: client.pipeline(transaction=spec.get("transaction", False))
    out = []
    try:
        for commands in spec["pipelines"]:
            pipe = make_pipe()
            for argv in commands:
                pipe.execute_command(*argv)
            out.append(encode(pipe.execute(raise_on_error=False)))
    finally:
        client.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
