export { lenet5, type LeNet } from './lenet.js';
