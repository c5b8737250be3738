from __future__ import annotations

import pytest

from web.browser import missing


@pytest.fixture(scope="module")
def browser():
    why = missing()
    if why:
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    from web.browser import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def bare_town(tmp_path_factory):
    from gastown_tui.town.install import install_town

    return install_town(tmp_path_factory.mktemp("web") / "town", name="webtown").root
