// The MNIST demo: the shared demo config plus the plugin that serves the IDX files.
import { defineConfig } from 'vite';
import { demoConfig } from '../shared/vite.shared.js';
import { mnistAssets } from './mnist-assets.js';

export default defineConfig(demoConfig(import.meta.url, { plugins: [mnistAssets()] }));
