"""Follow-up attachments: limits, storage outside the web root, downloads with Content-Disposition, access."""

from __future__ import annotations

from conftest import assert_error


def _followup(api, user="rep_north"):
    c = api.customer(user=user)
    return api.post("/followups", {"customer_id": c["id"], "type": "visit", "content": "拜访记录"}, user=user).json()


def test_upload_list_download_delete(api, settings):
    f = _followup(api)
    pdf = b"%PDF-1.4\n" + b"x" * 1000
    r = api.post(f"/followups/{f['id']}/attachments", user="rep_north", files={"file": ("会议纪要.pdf", pdf, "application/pdf")})
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["size"] == len(pdf) and a["content_type"] == "application/pdf" and r.headers["location"] == a["download_url"]
    stored = list((settings.data_dir / "attachments").iterdir())
    assert any(p.read_bytes() == pdf for p in stored)  # outside the web root, under a random name
    assert all("会议纪要" not in p.name for p in stored)
    assert [x["filename"] for x in api.get(f"/followups/{f['id']}/attachments", user="rep_north").json()["items"]] == ["会议纪要.pdf"]
    d = api.client.get(a["download_url"], headers=api.headers("rep_north"))
    assert d.status_code == 200 and d.content == pdf
    assert d.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E4%BC%9A" in d.headers["content-disposition"]
    assert d.headers["x-content-type-options"] == "nosniff"
    assert api.client.get(a["download_url"], headers=api.headers("rep_east")).status_code == 404
    tl = api.get(f"/customers/{f['customer_id']}/timeline", params={"type": "followup.attachment"}, user="rep_north").json()["items"]
    assert tl[0]["summary"] == "会议纪要.pdf"
    assert api.delete(f"/attachments/{a['id']}", user="rep_north").status_code == 204
    assert api.client.get(a["download_url"], headers=api.headers("rep_north")).status_code == 404


def test_type_size_and_content_checks(api, monkeypatch):
    import kith.activities.attachments as att

    f = _followup(api)
    url = f"/followups/{f['id']}/attachments"
    assert_error(api.post(url, user="rep_north", files={"file": ("run.exe", b"MZ....", "application/octet-stream")}), 422, field="file")
    assert_error(api.post(url, user="rep_north", files={"file": ("fake.png", b"not a png at all", "image/png")}), 422, field="file")
    assert_error(api.post(url, user="rep_north", files={"file": ("empty.txt", b"", "text/plain")}), 422, field="file")
    monkeypatch.setattr(att, "MAX_BYTES", 1000)
    assert_error(api.post(url, user="rep_north", files={"file": ("big.txt", b"a" * 1001, "text/plain")}), 413, field="file")
    assert api.post(url, user="rep_north", files={"file": ("ok.txt", b"a" * 1000, "text/plain")}).status_code == 201
    # someone who cannot see the follow-up gets 404, and nothing is stored
    assert_error(api.post(url, user="rep_east", files={"file": ("x.txt", b"hello", "text/plain")}), 404)
    assert len(api.get(f"/followups/{f['id']}/attachments", user="rep_north").json()["items"]) == 1
