from __future__ import annotations

import httpx2


def test_unknown_endpoint_is_a_zoom_404(scim: httpx2.Client) -> None:
    response = scim.get("/scim2/ServiceProviderConfig")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_bad_token_gets_code_124(sandbox_http: httpx2.Client) -> None:
    # Any API endpoint: token checks come first. /scim2/Users is built by the SCIM work.
    response = sandbox_http.get("/v2/users/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code in (401, 404)
