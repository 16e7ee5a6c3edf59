def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_register_first_user_is_admin(owner):
    assert owner["user"]["is_admin"] is True
    assert owner["workspaces"][0]["role"] == "owner"
