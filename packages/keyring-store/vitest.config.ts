import { vitestPreset } from "@latchkey/test-utils/vitest-preset";

// One file at a time: every file runs inside the one private D-Bus session and gnome-keyring
// daemon that test/run-with-keyring.mjs starts, and the keyring tests write, list and delete
// items of that shared keyring (`list` and `contract` would see each other's credentials).
export default vitestPreset({ fileParallelism: false });
