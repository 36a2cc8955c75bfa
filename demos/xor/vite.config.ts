// The XOR demo: the shared demo config, nothing else (its data is four points).
import { defineConfig } from 'vite';
import { demoConfig } from '../shared/vite.shared.js';

export default defineConfig(demoConfig(import.meta.url));
