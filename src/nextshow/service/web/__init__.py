"""The web pages: server-rendered Jinja2 templates and a little plain JavaScript (no build step).

``routes.router`` is included by ``create_app``; it serves the pages, their static files and the
JSON the explore graph draws from. Everything a page needs is served here: nothing is fetched
from another site.
"""
