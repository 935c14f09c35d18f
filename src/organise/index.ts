/** Public surface of organisation: split/gloss folders by links, with file-system-safe gloss names. */
export { organiseSplits, readGlossMapping, GLOSS_MAPPING_FILE, type OrganiseMode, type OrganiseOptions, type OrganiseResult } from './organise';
export { safeGlossName, glossFromSafeName, safeGlossNames } from './safe_names';
