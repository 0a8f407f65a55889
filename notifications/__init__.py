"""Notifications: French Jinja2 templates, rendering, the transactional outbox, delivery channels."""
