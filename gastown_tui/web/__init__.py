"""`gastown web`: the town's console in a browser, one `gastown app` process per tab.

    access.py        the per-run token, its cookie, and the middleware that refuses everything else
    server.py        the textual-serve server wired to that middleware, our page and the app command
    app_service.py   one tab's app process; passes the app's title badge on to the page
    title_badge.py   app side: tells the page (title and favicon) how many things need the Overseer
    town_server.py   starts the town server first, once that command exists
    page.html        the page each tab loads (xterm.js from textual-serve, no outside requests)

Nothing here imports Textual: the server side is aiohttp, and the app side
(`title_badge`) only calls the running app's driver.
"""
