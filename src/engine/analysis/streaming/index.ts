/**
 * Derivative-based sensitivity (sensitivity.ts's measures) over datasets larger than memory:
 * chunked accumulation, shard partial results and their exact merge.
 */
export {
  type StreamingDims,
  type StreamingOptions,
  type StreamingResult,
  STREAMING_PARTIAL_FORMAT,
  StreamingSensitivity,
  absMaxOfOutputs,
} from './accumulator';
export { mergeStreaming, parseStreamingPartial } from './partial';
