import json
def test_probe(api):
    c = api.customer()
    for payload in ['{"name": "a\\u0000b"}', '{"name": "\\ud800x"}', '{"name": "x", "website": "\\u0000"}']:
        r = api.client.post("/api/v1/customers", content=payload.encode(), headers={**api.headers("admin"), "Content-Type": "application/json"})
        print("CREATE", payload, r.status_code, r.text[:200])
    g = api.get(f"/customers/{c['id']}")
    for payload in ['{"name": "a\\u0000b"}', '{"name": "\\udfff"}']:
        r = api.client.patch(f"/api/v1/customers/{c['id']}", content=payload.encode(), headers={**api.headers("admin"), "Content-Type": "application/json", "If-Match": g.headers["ETag"]})
        print("PATCH", payload, r.status_code, r.text[:200])
    for q in ["a\x00b"]:
        r = api.get("/customers", params={"q": q}); print("LIST q", r.status_code, r.text[:150])
    r = api.client.post("/api/v1/auth/login", content=b'{"username": "a\\u0000", "password": "x"}', headers={"Content-Type": "application/json"})
    print("LOGIN", r.status_code, r.text[:200])
    r = api.client.post("/api/v1/followups", content=json.dumps({"customer_id": c["id"], "type": "call", "content": "a\u0000b"}).encode(), headers={**api.headers("admin"), "Content-Type": "application/json"})
    print("FOLLOWUP", r.status_code, r.text[:200])
