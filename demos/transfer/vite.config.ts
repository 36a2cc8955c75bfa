// The transfer demo: the shared demo config plus the plugin that serves the pretrained weights
// and a compact Fashion-MNIST subset.
import { defineConfig } from 'vite';
import { demoConfig } from '../shared/vite.shared.js';
import { transferAssets } from './transfer-assets.js';

export default defineConfig(demoConfig(import.meta.url, { plugins: [transferAssets()] }));
