/**
 * The TorchScript front-end: reads `torch.jit.save` archives (traced or scripted), parses their code,
 * and runs it with every tensor op delegated to a `TensorHost`.
 */
export { readTorchScript, isTorchScriptEntries } from './archive';
export type { TorchScriptArchive, ReadTorchScriptOptions } from './archive';
export { TsObject, isHostTensor } from './archive-values';
export type { ArchiveValue } from './archive-values';
export type { SourceLoc, CodeFile } from './ast';
export type { ClassInfo, FunctionInfo } from './classes';
export type { ArchiveKind } from './detect';
export { describe, formatDescription } from './describe';
export type { TorchScriptDescription, TensorCount } from './describe';
export { TorchScriptError } from './errors';
export { SCALAR_TYPES, dtypeName, scalarTypeCode, scalarArg, isFloatArg, intListArg } from './host';
export type { TensorHost } from './host';
export { Interpreter, runForward } from './interpreter';
export type { InterpreterOptions } from './interpreter';
export { CODE_LIMITS, RUN_LIMITS } from './limits';
export type { CodeLimits, RunLimits } from './limits';
export { parseCode } from './parser';
export {
  PyFloat,
  DTypeConst,
  Device,
  ScriptObject,
  ScriptFunction,
  Uninitialized,
  isTuple,
  isList,
  toNumber,
  namedTupleFields,
} from './values';
export type { Value } from './values';
