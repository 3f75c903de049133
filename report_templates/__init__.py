"""The report templates (Jinja2 twins over one report model), shipped as package data."""
