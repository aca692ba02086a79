using System.Diagnostics;

namespace Idefics3.Hub;

/// <summary>Totals for one batch of parallel file downloads, reported through <see cref="IProgress{T}"/>.</summary>
internal sealed class DownloadTracker
{
    private static readonly long _reportIntervalTicks = Stopwatch.Frequency / 10;

    private readonly IProgress<DownloadProgress>? _progress;
    private readonly string _repoId;
    private readonly int _fileCount;
    private readonly long _totalBytes;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _bytesOnDisk;
    private long _bytesTransferred;
    private int _filesCompleted;

    public DownloadTracker(IProgress<DownloadProgress>? progress, string repoId, int fileCount, long totalBytes)
    {
        _progress = progress;
        _repoId = repoId;
        _fileCount = fileCount;
        _totalBytes = totalBytes;
    }

    public FileTracker ForFile(string file, long? size) => new(this, file, size);

    internal void Add(long onDisk, long transferred)
    {
        Interlocked.Add(ref _bytesOnDisk, onDisk);
        Interlocked.Add(ref _bytesTransferred, transferred);
    }

    internal int CompleteOne() => Interlocked.Increment(ref _filesCompleted);

    internal void Report(string file, long fileBytes, long? fileTotal, bool complete)
    {
        if (_progress is null)
        {
            return;
        }

        double seconds = _clock.Elapsed.TotalSeconds;
        _progress.Report(new DownloadProgress
        {
            RepoId = _repoId,
            FileName = file,
            FileBytesDownloaded = fileBytes,
            FileTotalBytes = fileTotal,
            IsFileComplete = complete,
            TotalBytesDownloaded = Interlocked.Read(ref _bytesOnDisk),
            TotalBytes = _totalBytes,
            FilesCompleted = Volatile.Read(ref _filesCompleted),
            FileCount = _fileCount,
            BytesPerSecond = seconds > 0 ? Interlocked.Read(ref _bytesTransferred) / seconds : 0,
        });
    }

    /// <summary>Progress of one file; used by one download task at a time.</summary>
    internal sealed class FileTracker
    {
        private readonly DownloadTracker _owner;
        private readonly string _file;
        private readonly long? _size;
        private long _bytes;
        private long _lastReport;

        public FileTracker(DownloadTracker owner, string file, long? size)
        {
            _owner = owner;
            _file = file;
            _size = size;
        }

        /// <summary>Sets how many bytes are on disk (start, resume, or restart from zero).</summary>
        public void SetOnDisk(long bytes)
        {
            _owner.Add(bytes - _bytes, 0);
            _bytes = bytes;
            Report(force: true);
        }

        public void Transferred(int count)
        {
            _bytes += count;
            _owner.Add(count, count);
            Report(force: false);
        }

        public void Complete()
        {
            _owner.CompleteOne();
            _owner.Report(_file, _bytes, _size, complete: true);
        }

        private void Report(bool force)
        {
            long now = Stopwatch.GetTimestamp();
            if (force || now - _lastReport >= _reportIntervalTicks)
            {
                _lastReport = now;
                _owner.Report(_file, _bytes, _size, complete: false);
            }
        }
    }
}
