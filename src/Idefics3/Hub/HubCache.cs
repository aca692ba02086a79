using System.Text.Json;

namespace Idefics3.Hub;

/// <summary>
/// One repository's folder in the Hugging Face hub cache, laid out like <c>huggingface_hub</c> does it:
/// <c>blobs/&lt;etag&gt;</c>, <c>snapshots/&lt;commit&gt;/&lt;file&gt;</c> (relative symlinks to the blobs, or copies where
/// symlinks cannot be made), <c>refs/&lt;revision&gt;</c> holding a commit hash, and lock files under <c>.locks</c>.
/// </summary>
internal sealed class HubCache
{
    public HubCache(string cacheDirectory, HubRepoReference reference)
    {
        CacheDirectory = Path.GetFullPath(cacheDirectory);
        RepoFolder = Path.Combine(CacheDirectory, reference.CacheFolderName);
        BlobsFolder = Path.Combine(RepoFolder, "blobs");
        LocksFolder = Path.Combine(CacheDirectory, ".locks", reference.CacheFolderName);
    }

    public string CacheDirectory { get; }

    public string RepoFolder { get; }

    public string BlobsFolder { get; }

    public string LocksFolder { get; }

    public string BlobPath(string blobName) => Path.Combine(BlobsFolder, blobName);

    public string LockPath(string blobName) => Path.Combine(LocksFolder, blobName + ".lock");

    public string SnapshotFolder(string commit) => Path.Combine(RepoFolder, "snapshots", commit);

    public string SnapshotFile(string commit, string file) =>
        Path.Combine(SnapshotFolder(commit), file.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Reads <c>refs/&lt;revision&gt;</c>; null when it is missing or does not hold a commit hash.</summary>
    public string? ReadRef(string revision)
    {
        string path = RefPath(revision);
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            string commit = File.ReadAllText(path).Trim();
            return HubRepoReference.IsCommit(commit) ? commit : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Writes <c>refs/&lt;revision&gt;</c> atomically, without a trailing newline (as huggingface_hub does).</summary>
    public void WriteRef(string revision, string commit)
    {
        string path = RefPath(revision);
        if (ReadRef(revision) == commit)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temp, commit);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>True when the snapshot entry exists and, if it is a symlink, its blob exists.</summary>
    public bool HasSnapshotFile(string commit, string file) => File.Exists(SnapshotFile(commit, file));

    /// <summary>
    /// Makes <c>snapshots/&lt;commit&gt;/&lt;file&gt;</c> point at a blob: a relative symlink, or a copy where the file
    /// system or the OS refuses symlinks.
    /// </summary>
    public void LinkSnapshotFile(string commit, string file, string blobPath)
    {
        string link = SnapshotFile(commit, file);
        string folder = Path.GetDirectoryName(link)!;
        Directory.CreateDirectory(folder);
        if (File.Exists(link))
        {
            return;
        }

        // A dangling link (its blob was deleted) is replaced.
        if (new FileInfo(link).LinkTarget is not null)
        {
            File.Delete(link);
        }

        try
        {
            File.CreateSymbolicLink(link, Path.GetRelativePath(folder, blobPath));
            return;
        }
        catch (IOException) when (File.Exists(link))
        {
            return; // Another process linked it first.
        }
        catch (IOException)
        {
            // No symlinks here (FAT, some network shares): fall back to a copy.
        }
        catch (UnauthorizedAccessException)
        {
            // Windows without developer mode: fall back to a copy.
        }

        string temp = link + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.Copy(blobPath, temp, overwrite: true);
        File.Move(temp, link, overwrite: true);
    }

    /// <summary>
    /// Lists what is missing for the snapshot to be usable without the network: config.json, tokenizer.json and the
    /// weights (model.safetensors.index.json and every shard it names, else model.safetensors or another root
    /// *.safetensors file). Empty when the snapshot is complete.
    /// </summary>
    public IReadOnlyList<string> MissingCoreFiles(string commit)
    {
        var missing = new List<string>();
        string folder = SnapshotFolder(commit);
        if (!Directory.Exists(folder))
        {
            missing.Add($"snapshots/{commit}/");
            return missing;
        }

        foreach (string file in HubFileSelection.CoreFiles)
        {
            if (!HasSnapshotFile(commit, file))
            {
                missing.Add(file);
            }
        }

        string index = SnapshotFile(commit, HubFileSelection.WeightsIndexFile);
        if (File.Exists(index))
        {
            IReadOnlyList<string>? shards = TryReadShards(index);
            if (shards is null)
            {
                missing.Add(HubFileSelection.WeightsIndexFile + " (unreadable)");
            }
            else
            {
                missing.AddRange(shards.Where(shard => !HasSnapshotFile(commit, shard)));
            }
        }
        else if (!HasSnapshotFile(commit, HubFileSelection.WeightsFile) &&
                 !Directory.EnumerateFiles(folder, "*.safetensors").Any(File.Exists))
        {
            missing.Add(HubFileSelection.WeightsFile);
        }

        return missing;
    }

    private static IReadOnlyList<string>? TryReadShards(string indexPath)
    {
        try
        {
            return HubFileSelection.ShardsFromIndex(File.ReadAllText(indexPath));
        }
        catch (IOException)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (HubException)
        {
            return null;
        }
    }

    private string RefPath(string revision) =>
        Path.Combine(RepoFolder, "refs", revision.Replace('/', Path.DirectorySeparatorChar));
}
