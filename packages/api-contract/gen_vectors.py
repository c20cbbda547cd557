#!/usr/bin/env python3
"""Generates vectors.json from the table below. Run after editing; commit both.

Vector format (read by every implementation's contract test):
  cases[].name                 unique name
  cases[].steps[]              run in order on a fresh placeholder scope
    request.method, request.path, request.headers{}
    request.body      raw text body (UTF-8)         | one of these, or none
    request.body_json JSON value, sent compactly    |
    request.body_hex  raw bytes, hex-encoded         |
    expect.status     HTTP status; envelope ret must equal it
    expect.msg        exact msg
    expect.data       null, or an object matched as a subset: every listed
                      key must be present in the response's data with a
                      matching value. Values below that top level match
                      exactly (a nested object has exactly the listed keys,
                      so "attributes": {} means empty); "{any}" matches any
                      value at any depth
    expect.headers{}  response headers that must be present (value exact, case-insensitive name)
    expect.same_body_as_step  index of an earlier step whose response body must be identical
Placeholders, in path, header values and bodies: {v} -> v1 or v2;
{uuid:NAME} -> a random lowercase UUID, fixed per case run; {UUID:NAME} its
uppercase form; {ikey:NAME} -> a random idempotency key, fixed per case run.
"""
import json

UPD = "/api/{v}/profile/update"
GET = "/api/{v}/profile/get"
JSON_H = {"Content-Type": "application/json"}

def post(js=None, headers=None, **kw):
    h = dict(JSON_H)
    if headers is not None:
        h = headers
    r = {"method": "POST", "path": UPD, "headers": h}
    if js is not None:
        r["body_json"] = js
    r.update(kw)
    return r

def get(q, method="GET"):
    return {"method": method, "path": GET + q, "headers": {}}

def err(status, msg, headers=None):
    e = {"status": status, "msg": msg, "data": None}
    if headers:
        e["headers"] = headers
    return e

def ok(data):
    return {"status": 200, "msg": "", "data": data}

U = "{uuid:a}"
cases = []
def case(name, *steps):
    cases.append({"name": name, "steps": [{"request": r, "expect": e} for r, e in steps]})

# --- transport-level checks
case("wrong method on update", ({"method": "GET", "path": UPD, "headers": {}}, err(405, "method: use POST", {"Allow": "POST"})))
case("wrong method on get", ({"method": "POST", "path": GET + "?user_id=" + U, "headers": JSON_H, "body": "{}"}, err(405, "method: use GET", {"Allow": "GET"})))
big = '{"user_id":"' + U + '","attributes":{"k":"' + "x" * 70000 + '"}}'
case("body over 64 KiB", (post(body=big), err(413, "body: larger than 65536 bytes")))
case("wrong content type", (post(headers={"Content-Type": "text/plain"}, body='{"user_id":"' + U + '","attributes":{"a":"b"}}'), err(415, "Content-Type: must be application/json")))
case("missing content type", (post(headers={}, body='{"user_id":"' + U + '","attributes":{"a":"b"}}'), err(415, "Content-Type: must be application/json")))
case("content type with charset accepted", (post(headers={"Content-Type": "Application/JSON; charset=utf-8"}, body='{"user_id":"' + U + '","attributes":{"a":"b"}}'), ok({"user_id": U, "attributes": {"a": "b"}})))
case("idempotency key too long", (post({"user_id": U, "attributes": {"a": "b"}}, headers={**JSON_H, "Idempotency-Key": "k" * 129}), err(400, "Idempotency-Key: must be 1 to 128 printable ASCII characters")))
case("idempotency key with space", (post({"user_id": U, "attributes": {"a": "b"}}, headers={**JSON_H, "Idempotency-Key": "a b"}), err(400, "Idempotency-Key: must be 1 to 128 printable ASCII characters")))
case("bad timestamp header", (post({"user_id": U, "attributes": {"a": "b"}}, headers={**JSON_H, "X-Ficus-Timestamp": "12abc"}), err(400, "X-Ficus-Timestamp: must be a positive integer of microseconds since the epoch")))
case("zero timestamp header", (post({"user_id": U, "attributes": {"a": "b"}}, headers={**JSON_H, "X-Ficus-Timestamp": "0"}), err(400, "X-Ficus-Timestamp: must be a positive integer of microseconds since the epoch")))

# --- body shape
case("invalid UTF-8", (post(body_hex=("{\"user_id\":\"" + U + "\",\"attributes\":{\"a\":\"").encode().hex() + "c328" + "\"}}".encode().hex()), err(400, "body: not valid UTF-8")))
case("malformed JSON", (post(body='{"user_id": "' + U + '", "attributes": {"a": "b"'), err(400, "body: malformed JSON")))
case("empty body", (post(body=""), err(400, "body: malformed JSON")))
case("top level array", (post(body='[1,2]'), err(400, "body: must be a JSON object")))
case("top level string", (post(body='"x"'), err(400, "body: must be a JSON object")))
case("unknown field", (post({"user_id": U, "attributes": {"a": "b"}, "extra": 1}), err(400, "extra: unknown field")))
case("missing user_id", (post({"attributes": {"a": "b"}}), err(400, "user_id: required")))
case("user_id not a string", (post({"user_id": 42, "attributes": {"a": "b"}}), err(400, "user_id: must be a string")))
for label, bad in [("no dashes", "6f1c2a9e8d0b4c1e9a573f2d1b0c4e11"), ("braces", "{6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11}"),
                   ("too short", "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e1"), ("non hex", "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e1g"),
                   ("urn", "urn:uuid:6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11"), ("empty", ""),
                   ("trailing newline", "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11\n")]:
    case("bad uuid: " + label, (post({"user_id": bad, "attributes": {"a": "b"}}), err(400, "user_id: must be a canonical UUID")))
case("missing attributes", (post({"user_id": U}), err(400, "attributes: required")))
case("attributes is an array", (post({"user_id": U, "attributes": []}), err(400, "attributes: must be an object")))
case("attributes is a string", (post({"user_id": U, "attributes": "a"}), err(400, "attributes: must be an object")))
case("empty attributes", (post({"user_id": U, "attributes": {}}), err(400, "attributes: must have 1 to 64 entries")))
case("65 attributes", (post({"user_id": U, "attributes": {f"k{i}": "v" for i in range(65)}}), err(400, "attributes: must have 1 to 64 entries")))
case("64 attributes accepted", (post({"user_id": U, "attributes": {f"k{i:02d}": "v" for i in range(64)}}), ok({"user_id": U})))
case("bad key character", (post({"user_id": U, "attributes": {"ok": "1", "bad key": "v"}}), err(400, "attributes.bad key: key must be 1 to 64 bytes of [A-Za-z0-9_.:-]")))
case("non-ASCII key", (post({"user_id": U, "attributes": {"schlüssel": "v"}}), err(400, "attributes.schlüssel: key must be 1 to 64 bytes of [A-Za-z0-9_.:-]")))
case("empty key", (post({"user_id": U, "attributes": {"": "v"}}), err(400, "attributes.: key must be 1 to 64 bytes of [A-Za-z0-9_.:-]")))
case("65-byte key", (post({"user_id": U, "attributes": {"k" * 65: "v"}}), err(400, "attributes." + "k" * 65 + ": key must be 1 to 64 bytes of [A-Za-z0-9_.:-]")))
case("64-byte key accepted", (post({"user_id": U, "attributes": {"k" * 64: "v"}}), ok({"user_id": U, "attributes": {"k" * 64: "v"}})))
case("1025-byte value", (post({"user_id": U, "attributes": {"bio": "x" * 1025}}), err(400, "attributes.bio: value longer than 1024 bytes")))
case("1024-byte value accepted", (post({"user_id": U, "attributes": {"bio": "x" * 1024}}), ok({"user_id": U, "attributes": {"bio": "x" * 1024}})))
case("value bytes not characters", (post({"user_id": U, "attributes": {"bio": "é" * 513}}), err(400, "attributes.bio: value longer than 1024 bytes")))
for label, v in [("number", 5), ("float", 1.5), ("bool", True), ("object", {"a": "b"}), ("array", ["a"])]:
    case("value is " + label, (post({"user_id": U, "attributes": {"a": "ok", "v": v}}), err(400, "attributes.v: value must be a string or null")))

# --- semantics
case("update then get",
     (post({"user_id": U, "attributes": {"plan": "pro", "locale": "zh-CN"}}), ok({"user_id": U, "attributes": {"locale": "zh-CN", "plan": "pro"}, "updated_at": "{any}"})),
     (get("?user_id=" + U), ok({"user_id": U, "attributes": {"locale": "zh-CN", "plan": "pro"}})))
case("uppercase user id stored lowercase",
     (post({"user_id": "{UUID:a}", "attributes": {"a": "1"}}), ok({"user_id": U})),
     (get("?user_id={UUID:a}"), ok({"user_id": U, "attributes": {"a": "1"}})))
case("null deletes a key",
     (post({"user_id": U, "attributes": {"plan": "pro", "nickname": "bob"}}), ok({"attributes": {"nickname": "bob", "plan": "pro"}})),
     (post({"user_id": U, "attributes": {"nickname": None}}), ok({"user_id": U, "attributes": {"plan": "pro"}})),
     (get("?user_id=" + U), ok({"attributes": {"plan": "pro"}})))
case("deleting every key leaves an empty object",
     (post({"user_id": U, "attributes": {"a": "1"}}), ok({"attributes": {"a": "1"}})),
     (post({"user_id": U, "attributes": {"a": None}}), ok({"attributes": {}})),
     (get("?user_id=" + U), ok({"attributes": {}})))
case("a first update that only deletes creates an empty profile",
     (post({"user_id": U, "attributes": {"never_set": None}}), ok({"user_id": U, "attributes": {}})),
     (get("?user_id=" + U), ok({"user_id": U, "attributes": {}})))
case("timestamp header sets updated_at",
     (post({"user_id": U, "attributes": {"a": "1"}}, headers={**JSON_H, "X-Ficus-Timestamp": "1700000000123456"}), ok({"updated_at": "2023-11-14T22:13:20.123456Z", "attributes": {"a": "1"}})))
case("older write loses per key",
     (post({"user_id": U, "attributes": {"a": "new", "b": "b2"}}, headers={**JSON_H, "X-Ficus-Timestamp": "1700000000000200"}), ok({"attributes": {"a": "new", "b": "b2"}})),
     (post({"user_id": U, "attributes": {"a": "old", "c": "c1"}}, headers={**JSON_H, "X-Ficus-Timestamp": "1700000000000100"}), ok({"attributes": {"a": "new", "b": "b2", "c": "c1"}, "updated_at": "2023-11-14T22:13:20.000200Z"})))
case("tombstone beats an older write",
     (post({"user_id": U, "attributes": {"a": None}}, headers={**JSON_H, "X-Ficus-Timestamp": "1700000000000200"}), ok({"attributes": {}})),
     (post({"user_id": U, "attributes": {"a": "late"}}, headers={**JSON_H, "X-Ficus-Timestamp": "1700000000000100"}), ok({"attributes": {}})))
case("tie: tombstone wins, then greater value wins",
     (post({"user_id": U, "attributes": {"a": "x", "b": "m"}}, headers={**JSON_H, "X-Ficus-Timestamp": "1700000000000300"}), ok({"attributes": {"a": "x", "b": "m"}})),
     (post({"user_id": U, "attributes": {"a": None, "b": "z"}}, headers={**JSON_H, "X-Ficus-Timestamp": "1700000000000300"}), ok({"attributes": {"b": "z"}})),
     (post({"user_id": U, "attributes": {"b": "c"}}, headers={**JSON_H, "X-Ficus-Timestamp": "1700000000000300"}), ok({"attributes": {"b": "z"}})))
case("unicode and escapes round-trip",
     (post({"user_id": U, "attributes": {"name": "李雷 \"quoted\" \\ / \u0001"}}), ok({"attributes": {"name": "李雷 \"quoted\" \\ / \u0001"}})))

# --- idempotency
IK = {**JSON_H, "Idempotency-Key": "{ikey:k}"}
case("idempotent replay",
     (post({"user_id": U, "attributes": {"n": "1"}}, headers=IK), ok({"attributes": {"n": "1"}})),
     (post({"user_id": U, "attributes": {"m": "2"}}), ok({"attributes": {"m": "2", "n": "1"}})),
     (post({"user_id": U, "attributes": {"n": "1"}}, headers=IK), {"status": 200, "msg": "", "data": {"attributes": {"n": "1"}}, "same_body_as_step": 0}),
     (get("?user_id=" + U), ok({"attributes": {"m": "2", "n": "1"}})))
case("conflicting replay",
     (post({"user_id": U, "attributes": {"n": "1"}}, headers=IK), ok({"attributes": {"n": "1"}})),
     (post({"user_id": U, "attributes": {"n": "2"}}, headers=IK), err(422, "Idempotency-Key: reused with a different request body")),
     (get("?user_id=" + U), ok({"attributes": {"n": "1"}})))
case("same key, other user is independent",
     (post({"user_id": U, "attributes": {"n": "1"}}, headers=IK), ok({"user_id": U})),
     (post({"user_id": "{uuid:b}", "attributes": {"n": "1"}}, headers=IK), ok({"user_id": "{uuid:b}"})))

# --- rejected requests change nothing
case("rejected update writes nothing",
     (post({"user_id": U, "attributes": {"ok": "1", "bad": 5}}), err(400, "attributes.bad: value must be a string or null")),
     (get("?user_id=" + U), err(404, "user_id: no profile for this user")))

# --- get
case("get unknown user", (get("?user_id=" + U), err(404, "user_id: no profile for this user")))
case("get without user_id", (get(""), err(400, "user_id: required")))
case("get bad uuid", (get("?user_id=nope"), err(400, "user_id: must be a canonical UUID")))

names = [c["name"] for c in cases]
assert len(names) == len(set(names)), "duplicate case names"
doc = {"version": 1, "format": __doc__.strip(), "cases": cases}
with open(__file__.replace("gen_vectors.py", "vectors.json"), "w") as f:
    json.dump(doc, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(f"{len(cases)} cases")
