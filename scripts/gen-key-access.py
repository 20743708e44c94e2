#!/usr/bin/python3
"""Prints src/acl/key-access.ts's KEY_ACCESS entries from a running redis-server 7.0 (port argv[1]):
per command and subcommand, one number per key spec, 1 = ACCESS, 2 = INSERT/DELETE/UPDATE, 3 = both.
Needs python3-redis. SORT's entries are then edited by hand (see the file's comment)."""
import sys
import redis

def text(x):
    return x if isinstance(x, str) else x.decode()

def access(specs):
    out = []
    for spec in specs:
        fields = {text(k): v for k, v in zip(spec[::2], spec[1::2])}
        flags = [text(f).upper() for f in fields['flags']]
        v = 0
        if 'ACCESS' in flags:
            v |= 1
        if 'INSERT' in flags or 'DELETE' in flags or 'UPDATE' in flags:
            v |= 2
        out.append(v)
    return out

conn = redis.Redis(port=int(sys.argv[1])).connection_pool.get_connection('COMMAND')
conn.send_command('COMMAND')
table = {}
def walk(entry):
    if len(entry) > 8 and entry[8]:
        table[text(entry[0])] = access(entry[8])
    for sub in (entry[9] if len(entry) > 9 else []):
        walk(sub)
for entry in conn.read_response(disable_decoding=False):
    walk(entry)
for name in sorted(table):
    print(f"  '{name}': [{', '.join(map(str, table[name]))}],")
