#!/usr/bin/env bash
# System packages ledger-xl's real-program tests and renderings need: LibreOffice (headless, with its
# Python bridge), CJK fonts, Carlito (Calibri's metrics), pdftoppm, and dovecot (a real IMAP server for the fetch tests). Installs only what is missing; needs root (or sudo).
set -euo pipefail
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc libreoffice-writer)
[ -e /usr/lib/python3/dist-packages/uno.py ] || need+=(python3-uno)
fc-list 2>/dev/null | grep -qi "Noto Serif CJK" || need+=(fonts-noto-cjk)
# Carlito has Calibri's metrics: without it LibreOffice sizes Excel's columns in DejaVu Sans, ~25% wider
fc-list 2>/dev/null | grep -qi "Carlito" || need+=(fonts-crosextra-carlito)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# dovecot: the tests start a private IMAP server on 127.0.0.1 (fetch is tested against a real mailbox)
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
echo "system packages ready"
