#!/usr/bin/env sh
# Real photographs for the upload tests and bench/images.py, from Debian's wallpaper packages (photos
# nobody here made, at the sizes people upload). Nothing is installed: the two .deb files are downloaded
# with `apt-get download` and the chosen files extracted into .cache/photos/ (git-ignored).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${PHOTOS_DIR:-$ROOT/.cache/photos}
STAMP=$DEST/.complete-v1
[ -f "$STAMP" ] && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "apt-get is missing: the real-photo upload tests will be skipped (and fail under CI=true)." >&2; exit 0; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
if ! apt-get download plasma-workspace-wallpapers gnome-backgrounds >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq
    apt-get download plasma-workspace-wallpapers gnome-backgrounds >/dev/null
  else
    echo "Could not download the photo packages (try: sudo apt-get update); the real-photo tests will be skipped." >&2
    exit 0
  fi
fi
for deb in ./*.deb; do dpkg-deb -x "$deb" tree; done
mkdir -p "$DEST"
W=tree/usr/share/wallpapers
G=tree/usr/share/backgrounds/gnome
# Each line: the name in .cache/photos, the file in the packages, what it is.
while read -r name source _; do
  [ -n "$name" ] && cp "tree/$source" "$DEST/$name"
done <<'LIST'
boats.jpg         usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg   photo, 0.6 MB
leaf.jpg          usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg    photo, 0.5 MB
cups.jpg          usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg  photo, 0.7 MB
forest.jpg        usr/share/wallpapers/Path/contents/images/2560x1600.jpg          photo, 0.9 MB
pier.jpg          usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg    photo (greyscale), 0.5 MB
moss.jpg          usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg  photo, 0.9 MB
landing-5120.jpg  usr/share/wallpapers/SafeLanding/contents/images/5120x2880.jpg   14.7 MP JPEG, 4.2 MB
canopee-3840.png  usr/share/wallpapers/Canopee/contents/images/3840x2160.png       8.3 MP PNG, 6.2 MB
cluster-3840.png  usr/share/wallpapers/Cluster/contents/images/3840x2160.png       8.3 MP PNG, 4.1 MB
patak-5120.png    usr/share/wallpapers/Patak/contents/images/5120x2880.png         14.7 MP PNG, 13.3 MB: over 10 MB
adwaita.webp      usr/share/backgrounds/gnome/adwaita-l.webp                       WebP, 4.2 MB
pixels.webp       usr/share/backgrounds/gnome/pixels-l.webp                        WebP, 8.0 MB
LIST
touch "$STAMP"
echo "real photos ready in $DEST"
