"""The quick start's first page."""


def test_home_page_lists_active_games_only(client, make_game):
    make_game(name="Open Room")
    make_game(name="Closed Room", is_active=False)
    page = client.get("/")
    assert page.status_code == 200
    assert b"Open Room" in page.data
    assert b"Closed Room" not in page.data
