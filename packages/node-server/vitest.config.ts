import { vitestPreset } from "@latchkey/test-utils/vitest-preset";

export default vitestPreset();
