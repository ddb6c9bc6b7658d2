// The preset's setup file: runs before every test file. What a file made outside its tests
// (temp dirs, processes started in `beforeAll`) is removed after the file.
import { afterAll } from "vitest";
import { cleanUpFile } from "./cleanup.js";

afterAll(cleanUpFile);
