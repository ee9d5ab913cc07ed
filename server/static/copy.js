// The copy buttons of command blocks (docs/i18n.md): see step below.
