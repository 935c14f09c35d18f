/** Public surface of the embedded sample: its class design and the generator. */
export { SAMPLE_CLASSES, sawtooth, SLOW_FRACTION, type SampleClass, type Motion } from './design';
export { generateSample, planSample, sampleMetadata, sampleVideoId, renderSampleVideo, DEFAULT_SAMPLE_OPTIONS, SAMPLE_FPS, SAMPLE_GENERATOR_VERSION, type SampleOptions, type SampleResult, type SampleManifest } from './generate';
