import { execFileSync } from "node:child_process";
import { ReviewError } from "./errors.js";

/** A git repository, read through the `git` command (no work tree changes, ever). */
export class GitRepo {
  /** Absolute path of the work tree root. */
  readonly root: string;
  readonly #blobs = new Map<string, string>();

  private constructor(root: string) {
    this.root = root;
  }

  /**
   * The repository that contains `dir`.
   * @throws ReviewError REVIEW_NOT_A_GIT_REPOSITORY when `dir` is not inside a git work tree.
   */
  static containing(dir: string): GitRepo {
    try {
      return new GitRepo(git(dir, ["rev-parse", "--show-toplevel"]).trim());
    } catch (error) {
      throw new ReviewError("REVIEW_NOT_A_GIT_REPOSITORY", `${dir} is not inside a git repository`, { cause: error });
    }
  }

  /**
   * The commit id `ref` names.
   * @throws ReviewError REVIEW_BAD_REF when it names no commit.
   */
  resolve(ref: string): string {
    try {
      if (ref.startsWith("-")) throw new Error("not a ref");
      return git(this.root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]).trim();
    } catch (error) {
      throw new ReviewError("REVIEW_BAD_REF", `base ref "${ref}" does not name a commit in ${this.root}`, {
        cause: error,
      });
    }
  }

  /** Files under `path` at `commit`: repository-relative path → blob id. */
  listFiles(commit: string, path: string): Map<string, string> {
    const out = git(this.root, ["ls-tree", "-r", "-z", commit, "--", path]);
    const files = new Map<string, string>();
    for (const entry of out.split("\0")) {
      const match = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(entry);
      if (match) files.set(match[2] as string, match[1] as string);
    }
    return files;
  }

  /** The text of a blob (cached: blobs never change). */
  readBlob(id: string): string {
    let text = this.#blobs.get(id);
    if (text === undefined) {
      text = git(this.root, ["cat-file", "blob", id]);
      this.#blobs.set(id, text);
    }
    return text;
  }

  /** The text of `path` (repository-relative) at `commit`, or undefined when it does not exist there. */
  show(commit: string, path: string): string | undefined {
    const id = this.listFiles(commit, path).get(path);
    return id === undefined ? undefined : this.readBlob(id);
  }

  /** Commits reachable from `commit` that touched `path`, newest first. */
  commitsTouching(commit: string, path: string): string[] {
    return git(this.root, ["log", "--format=%H", commit, "--", path])
      .split("\n")
      .filter((line) => line !== "");
  }
}

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 });
}
