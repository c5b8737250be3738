"""`gastown web`: the town's console in a browser, one `gastown app` process per tab.

    access.py        the per-run token, its cookie, and the middleware that refuses everything else
    server.py        the textual-serve server wired to that middleware, our page and the app command
    app_service.py   one tab's app process; passes the app's title badge on to the page
    town_server.py   starts the town server first, once that command exists
    page.html        the page each tab loads (xterm.js from textual-serve, no outside requests)

Nothing here imports Textual: the server side is aiohttp. The app's side of the badge (how many things need
the Overseer, for the page's title and favicon) is gastown_tui/ui/title_badge.py.
"""
