def test_health(client):
    assert client.get("/api/v1/healthz").json()["status"] == "ok"


def test_world(api):
    r = api.get("/me", user="rep_north")
    assert r.status_code == 200
    assert r.json()["username"] == "rep_north"
