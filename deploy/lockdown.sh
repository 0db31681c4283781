#!/usr/bin/env bash
# Turns a Debian PC with LightDM and Xorg into a lobby terminal. Run as root after copying the bundle
# (`make bundle`: build/dist/kiosk) to this machine. Every step is idempotent; docs/install.md explains them.
#
#   deploy/lockdown.sh --bundle build/dist/kiosk            do it
#   deploy/lockdown.sh --bundle build/dist/kiosk --root DIR  write every file under DIR and only print the commands
#                                                            that would change the running system (a dry run)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=""
bundle=""
user=kiosk
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2%/}; shift 2 ;;
    --bundle) bundle=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "lockdown.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$bundle" ] && [ -x "$bundle/kiosk" ] || { echo "lockdown.sh: --bundle must be a built bundle folder" >&2; exit 2; }
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then echo "lockdown.sh: run as root (or with --root DIR)" >&2; exit 2; fi

# System commands run for real only without --root; with it they are printed, so a dry run changes nothing.
run() { if [ -n "$root" ]; then echo "would run: $*"; else "$@"; fi; }
put() {  # put MODE PATH: write stdin to PATH under the root, with MODE
  local mode=$1 path=$root$2
  mkdir -p "$(dirname "$path")"
  cat > "$path"
  chmod "$mode" "$path"
  echo "wrote $2"
}

# 1. The account: no password, no sudo, nothing but the kiosk.
if [ -n "$root" ] || ! id "$user" >/dev/null 2>&1; then
  run useradd --system --create-home --home-dir /var/lib/kiosk --shell /usr/sbin/nologin --groups dialout,lp,audio "$user"
fi

# 2. The program, its configuration (kept if already there) and its service.
mkdir -p "$root/opt"
rm -rf "$root/opt/kiosk"
cp -a "$bundle" "$root/opt/kiosk"
echo "copied $bundle to /opt/kiosk"
if [ ! -e "$root/etc/kiosk/kiosk.toml" ]; then
  put 0640 /etc/kiosk/kiosk.toml < "$here/kiosk.example.toml"
  run chown "root:$user" /etc/kiosk/kiosk.toml
fi
put 0644 /etc/systemd/user/kiosk.service < "$here/kiosk.service"
put 0755 /usr/local/bin/kiosk-session < "$here/kiosk-session"
put 0644 /usr/share/xsessions/kiosk.desktop <<'DESKTOP'
[Desktop Entry]
Name=Kiosk
Comment=The lobby payment terminal and nothing else
Exec=/usr/local/bin/kiosk-session
Type=Application
DESKTOP

# 3. Log the kiosk account in at boot, straight into that session; no blanking, no remote X.
put 0644 /etc/lightdm/lightdm.conf.d/50-kiosk.conf <<CONF
[Seat:*]
autologin-user=$user
autologin-user-timeout=0
autologin-session=kiosk
user-session=kiosk
greeter-hide-users=true
xserver-command=X -nolisten tcp -s 0 -dpms
CONF

# 4. No way out from the keyboard: no console switching (Ctrl+Alt+F1..), no Ctrl+Alt+Backspace, no
#    Ctrl+Alt+Del reboot, no spare text consoles to switch to.
put 0644 /etc/X11/xorg.conf.d/10-kiosk.conf <<'XORG'
Section "ServerFlags"
    Option "DontVTSwitch" "true"
    Option "DontZap" "true"
    Option "BlankTime" "0"
    Option "StandbyTime" "0"
    Option "SuspendTime" "0"
    Option "OffTime" "0"
EndSection
XORG
put 0644 /etc/systemd/logind.conf.d/50-kiosk.conf <<'LOGIND'
[Login]
NAutoVTs=0
ReserveVT=0
HandlePowerKey=ignore
HandleSuspendKey=ignore
HandleHibernateKey=ignore
HandleLidSwitch=ignore
LOGIND
run systemctl mask ctrl-alt-del.target
run systemctl mask sleep.target suspend.target hibernate.target hybrid-sleep.target

# 5. The user's systemd starts at boot (so the service can run and be watched) and the display manager with it.
run loginctl enable-linger "$user"
run systemctl enable lightdm.service
run systemctl set-default graphical.target

echo "Locked down. Reboot; then check: journalctl --user-unit kiosk.service (as $user), or the maintenance menu."
