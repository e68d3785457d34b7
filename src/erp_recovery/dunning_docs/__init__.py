"""Dunning documents: Jinja2 templates (FR, EN) rendered to HTML and PDF, e-mail texts, dossiers."""
