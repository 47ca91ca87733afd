/**
 * The variable picker's messages: what a data file holds (its candidate arrays, for the picker's tree) and
 * which of them the user chose as x and p. Plain, structured-cloneable data, shared by the worker and the UI.
 */

/** The variables chosen as x and p in one data file (names from its listing; absent: not from this file). */
export interface VarChoice {
  x?: string;
  p?: string;
}

/** One array of a data file, as the picker lists it. */
export interface PickVariable {
  /** How the file names it: an HDF5 path (`/inputs/x`), a struct field or dict key (`run.x`), an .npz member. */
  name: string;
  /** In the order MATLAB / NumPy / PyTorch show it. */
  shape: number[];
  /** The file's element type ('float32', 'int64', …); null for what is not a numeric array. */
  dtype: string | null;
  /** What a non-numeric entry is (a cell array, a string, …). */
  note?: string;
}

/** The worker asks the UI to choose x and p in a file. */
export interface PickRequest {
  /** The load request that asked (the answer names it). */
  pickId: number;
  file: string;
  /** The format recognised, for people ('HDF5', 'MATLAB v7.3 .mat (HDF5)', 'torch.save data'). */
  format: string;
  /** How names nest in the tree: '/' for HDF5 paths, '.' for struct fields and dict keys, '' flat. */
  separator: '/' | '.' | '';
  variables: PickVariable[];
  /** The worker's guess (by name, else by shape), preselected in the picker. */
  suggested: VarChoice;
  /** Why the picker shows, in words. */
  reason: string;
}
