"""Web pages: the merchant portal (/portal/) and the operator console (/console/).

Server-rendered from the same process as the API, calling the same use cases; forms work
without JavaScript and nothing is loaded from another host.
"""
