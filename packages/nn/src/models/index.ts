export { lenet5, type LeNet } from './lenet.js';
export { fashionCnn, type FashionCnn } from './fashion-cnn.js';
