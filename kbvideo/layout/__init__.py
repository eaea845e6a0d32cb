"""Text measurement and on-screen layout, shared by validate, the renderer and the caption sidecars.

`text` measures with the shipped fonts (glyphs, widths, balanced caption lines, title-card lines);
`screen` places every element in named zones inside title-safe and resolves collisions. Below
`render` in the import order: it imports only `timeline`, `errors` and `i18n`.
"""
