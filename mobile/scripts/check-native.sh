#!/usr/bin/env bash
# The native side without Xcode or the Android SDK: the public config is valid,
# and `expo prebuild` generates ios/ and android/ (in a temp copy, so the working
# tree never gets native folders) carrying the configured bundle id.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=1 EXPO_NO_TELEMETRY=1

npx expo config --type public --json > /dev/null
# A release build refuses a local backend (app.config.ts).
if EASYFLOW_RELEASE=1 EXPO_PUBLIC_RASA_URL=http://localhost:5005 npx expo config --type public --json > /dev/null 2>&1; then
  echo "release config accepted a localhost backend" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar --exclude=./node_modules --exclude=./dist --exclude=./ios --exclude=./android --exclude=./e2e/artifacts -cf - . | tar -xf - -C "$tmp"
ln -s "$PWD/node_modules" "$tmp/node_modules"
bundle=org.easyflow.check
(cd "$tmp" && EASYFLOW_BUNDLE_ID=$bundle EASYFLOW_RELEASE=1 EXPO_PUBLIC_RASA_URL=https://chat.shop.example \
  npx expo prebuild --no-install --platform all)
grep -q "PRODUCT_BUNDLE_IDENTIFIER = \"$bundle\";" "$tmp"/ios/*.xcodeproj/project.pbxproj
grep -q "applicationId '$bundle'" "$tmp/android/app/build.gradle"
test -f "$tmp/ios/Podfile" && test -f "$tmp/android/settings.gradle"
echo "native projects generated: ios/ and android/ with bundle id $bundle"
