"""A bare Django site for bench/pages.py: one view, no middleware, no database, no apps.

What Practika's pages are compared with: the same web server command and worker count
(config.webserver.command), and the same Django, doing nothing but answering.
"""
