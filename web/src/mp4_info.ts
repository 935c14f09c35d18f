/**
 * Frame rate and frame count of an MP4/MOV video track, read from its boxes. Browsers do not expose a video's
 * frame rate, and Node's window counts frames, so the page needs both to seek to "frame k". The parser lives
 * in src/video/mp4_boxes.ts, shared with the Node frame stage's header probe.
 */
export { readTrackTiming, type TrackTiming } from '../../src/video/mp4_boxes';
