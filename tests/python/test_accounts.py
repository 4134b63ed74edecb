"""Accounts plugin: kinto-http has no account helpers, so applications sign up with the client's
own session (`client.session.request`) and then log in by passing the account's credentials."""

import pytest
from kinto_http import KintoException

from conftest import AGAINST_KINTOUN, unique


def signup(make_client, username, password):
    anonymous = make_client(None)
    body, _ = anonymous.session.request(
        "put", f"/accounts/{username}", data={"password": password}
    )
    return body


def test_create_account_and_login(make_client):
    username = unique("acc")
    body = signup(make_client, username, "s3cret-pass")
    assert body["data"]["id"] == username
    assert body["data"].get("password") != "s3cret-pass"  # stored hashed
    assert body["permissions"]["write"] == [f"account:{username}"]

    me = make_client(username, "s3cret-pass")
    user = me.server_info()["user"]
    assert user["id"] == f"account:{username}"

    bid = unique("accbucket")
    created = me.create_bucket(id=bid)
    assert created["permissions"]["write"] == [f"account:{username}"]

    own, _ = me.session.request("get", f"/accounts/{username}")
    assert own["data"]["id"] == username


def test_wrong_password_falls_back_to_basicauth(make_client):
    username = unique("acc")
    signup(make_client, username, "right-password")
    # The accounts policy refuses it; the permissive Basic Auth policy that follows accepts it.
    user = make_client(username, "wrong-password").server_info()["user"]
    assert user["id"].startswith("basicauth:")


def test_account_already_exists(make_client):
    username = unique("acc")
    signup(make_client, username, "pw-one")
    with pytest.raises(KintoException) as excinfo:
        make_client(None).session.request(
            "put", f"/accounts/{username}", data={"password": "pw-two"},
            headers={"If-None-Match": "*"},
        )
    assert excinfo.value.response.status_code in (401, 403, 412)


def test_change_password(make_client):
    username = unique("acc")
    signup(make_client, username, "old-password")
    me = make_client(username, "old-password")
    me.session.request("patch", f"/accounts/{username}", data={"password": "new-password"})

    assert make_client(username, "new-password").server_info()["user"]["id"] == (
        f"account:{username}"
    )
    assert make_client(username, "old-password").server_info()["user"]["id"].startswith(
        "basicauth:"
    )


def test_account_can_only_see_itself(make_client):
    first, second = unique("acc"), unique("acc")
    signup(make_client, first, "password-1")
    signup(make_client, second, "password-2")
    me = make_client(first, "password-1")
    listing, _ = me.session.request("get", "/accounts")
    assert [a["id"] for a in listing["data"]] == [first]
    with pytest.raises(KintoException) as excinfo:
        me.session.request("get", f"/accounts/{second}")
    assert excinfo.value.response.status_code == 403

    me.session.request("delete", f"/accounts/{first}")
    assert make_client(first, "password-1").server_info()["user"]["id"].startswith("basicauth:")


def test_signup_with_invalid_username(make_client):
    with pytest.raises(KintoException) as excinfo:
        signup(make_client, "not valid!", "password")
    body = excinfo.value.response.json()
    assert excinfo.value.response.status_code == 400
    assert body["message"] == "path: Invalid object id"


def test_signed_in_user_cannot_create_another_account(make_client):
    someone = make_client("dan", "pw")  # a Basic Auth user, not the account admin
    with pytest.raises(KintoException) as excinfo:
        someone.session.request("put", f"/accounts/{unique('acc')}", data={"password": "pw"})
    body = excinfo.value.response.json()
    assert excinfo.value.response.status_code == 400
    assert body["message"] == "data.id in body: Username and account ID do not match."


def test_signed_in_user_with_invalid_account_id(make_client):
    someone = make_client("dan", "pw")
    with pytest.raises(KintoException) as excinfo:
        someone.session.request("put", "/accounts/not valid!", data={"password": "pw"})
    body = excinfo.value.response.json()
    assert excinfo.value.response.status_code == 400
    assert body["details"] == [
        {"location": "path", "name": None, "description": "Invalid object id"}
    ]
