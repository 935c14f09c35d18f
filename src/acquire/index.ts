/** Public surface of acquisition: Kaggle download (resumable) and safe zip extraction (resumable). */
export { extractZip, type ExtractOptions, type ExtractProgress, type ExtractResult } from './extract';
export { downloadKaggleDataset, findKaggleCredentials, KAGGLE_API, WLASL_KAGGLE_DATASET, type KaggleCredentials, type KaggleDownloadOptions, type KaggleDownloadResult, type DownloadProgress } from './kaggle';
