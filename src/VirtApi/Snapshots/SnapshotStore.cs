using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Machine.Memory;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;

namespace VirtApi.Snapshots;

/// <summary>
/// Snapshots in SQLite (DESIGN.md "Snapshots"): the snapshot row with its machine state, its page map,
/// and the content-addressed page store under both. Every change is one transaction, so a failed
/// capture or delete leaves nothing behind; one writer at a time, so two snapshots storing the same new
/// page, or a delete collecting a page a capture is about to reference, never race.
/// </summary>
public sealed class SnapshotStore : IDisposable
{
    // SQLite limits the parameters of one statement; hashes are looked up this many at a time.
    private const int LookupChunk = 2000;

    private readonly SemaphoreSlim _writer = new(1, 1);

    public void Dispose() => _writer.Dispose();

    /// <summary>
    /// Stores <paramref name="snapshot"/> (its definition fields set by the caller) with the capture's
    /// machine state and pages: pages already in the store are referenced, new ones added, zero pages
    /// only recorded. Fills in the snapshot's counts. False when a diff's parent no longer exists.
    /// </summary>
    public async Task<bool> SaveAsync(VirtApiDbContext db, SnapshotEntity snapshot, VmCapture? machine, CancellationToken cancellationToken)
    {
        // Hashing and compressing is the expensive part; it needs no lock and uses every core.
        var pages = machine?.Pages ?? [];
        var encoded = new PageCodec.EncodedPage?[pages.Length];
        Parallel.For(0, pages.Length, i => encoded[i] = pages[i].IsZero ? null : PageCodec.Encode(pages[i].Bytes));
        if (machine is not null)
        {
            var json = SnapshotFormat.Serialize(machine.State);
            snapshot.MachineState = PageCodec.CompressState(json);
            snapshot.MachineStateHash = PageCodec.Hash(json);
        }
        snapshot.FormatVersion = SnapshotFormat.Version;
        snapshot.PagesReferenced = encoded.Count(e => e is not null);
        snapshot.ZeroPages = pages.Length - snapshot.PagesReferenced;

        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (snapshot.ParentId is { } parent && !await db.Snapshots.AnyAsync(s => s.Id == parent, cancellationToken))
            {
                return false;
            }
            var distinct = new Dictionary<string, PageCodec.EncodedPage>(StringComparer.Ordinal);
            foreach (var page in encoded)
            {
                if (page is { } p)
                {
                    distinct.TryAdd(p.Hash, p);
                }
            }
            var stored = await ExistingAsync(db, distinct.Keys, cancellationToken);
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            var bytes = snapshot.MachineState?.LongLength ?? 0;
            var added = 0;
            foreach (var (hash, page) in distinct)
            {
                if (!stored.Contains(hash))
                {
                    db.Pages.Add(new StoredPageEntity { Hash = hash, Data = page.Data, Compressed = page.Compressed });
                    bytes += page.Data.Length;
                    added++;
                }
            }
            snapshot.PagesNewlyStored = added;
            snapshot.BytesStored = bytes;
            db.Snapshots.Add(snapshot);
            for (var i = 0; i < pages.Length; i++)
            {
                db.SnapshotPages.Add(new SnapshotPageEntity
                {
                    SnapshotId = snapshot.Id,
                    GuestFrame = (long)(pages[i].Address >> SparseRam.FrameShift),
                    PageHash = encoded[i]?.Hash,
                });
            }
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }
        finally
        {
            db.ChangeTracker.Clear();
            db.ChangeTracker.AutoDetectChangesEnabled = true;
            _writer.Release();
        }
    }

    /// <summary>
    /// Everything needed to restore <paramref name="snapshot"/>: its chain's page maps merged root first,
    /// every page read back and checked against its hash, and its machine state checked and parsed.
    /// Damage anywhere gives <see cref="SnapshotLoad.Damage"/> and nothing else.
    /// </summary>
    public async Task<SnapshotLoad> LoadAsync(VirtApiDbContext db, SnapshotEntity snapshot, CancellationToken cancellationToken)
    {
        var chain = await ChainAsync(db, snapshot, cancellationToken);
        if (chain is null)
        {
            return SnapshotLoad.Damaged(new SnapshotDamage(snapshot.Id, null, null, $"a snapshot in the chain of '{snapshot.Name}' is missing"));
        }
        var map = new SortedDictionary<long, (string? Hash, Guid Snapshot)>();
        foreach (var link in chain)
        {
            var entries = await db.SnapshotPages.AsNoTracking()
                .Where(m => m.SnapshotId == link.Id)
                .Select(m => new { m.GuestFrame, m.PageHash })
                .ToListAsync(cancellationToken);
            foreach (var entry in entries)
            {
                map[entry.GuestFrame] = (entry.PageHash, link.Id);
            }
        }

        var wanted = map.Values.Where(v => v.Hash is not null).Select(v => v.Hash!).Distinct(StringComparer.Ordinal).ToList();
        var decoded = new ConcurrentDictionary<string, byte[]?>(StringComparer.Ordinal);
        foreach (var chunk in wanted.Chunk(LookupChunk))
        {
            var rows = await db.Pages.AsNoTracking().Where(p => chunk.Contains(p.Hash)).ToListAsync(cancellationToken);
            Parallel.ForEach(rows, row => decoded[row.Hash] = PageCodec.Decode(row.Data, row.Compressed, row.Hash));
        }
        var pages = new List<GuestPage>(map.Count);
        foreach (var (frame, (hash, owner)) in map)
        {
            if (hash is null)
            {
                continue; // a zero page reads as zero without being loaded
            }
            var address = (ulong)frame << SparseRam.FrameShift;
            if (!decoded.TryGetValue(hash, out var bytes))
            {
                return SnapshotLoad.Damaged(new SnapshotDamage(owner, address, hash, $"guest page 0x{address:x} (sha256 {hash}) is missing from the page store"));
            }
            if (bytes is null)
            {
                return SnapshotLoad.Damaged(new SnapshotDamage(owner, address, hash, $"guest page 0x{address:x} is damaged: its stored bytes do not hash to sha256 {hash}"));
            }
            pages.Add(new GuestPage(address, bytes));
        }

        if (snapshot.MachineState is null || snapshot.MachineStateHash is null)
        {
            return new SnapshotLoad(null, pages, null);
        }
        var json = PageCodec.DecompressState(snapshot.MachineState, snapshot.MachineStateHash);
        if (json is null)
        {
            return SnapshotLoad.Damaged(new SnapshotDamage(snapshot.Id, null, snapshot.MachineStateHash, "the machine state is damaged: it does not hash to its recorded sha256"));
        }
        try
        {
            return new SnapshotLoad(SnapshotFormat.Deserialize(json), pages, null);
        }
        catch (SnapshotFormatException exception)
        {
            return SnapshotLoad.Damaged(new SnapshotDamage(snapshot.Id, null, null, exception.Message));
        }
    }

    /// <summary>The snapshots from the chain's full root down to <paramref name="snapshot"/>; null when a parent is missing.</summary>
    public static async Task<List<SnapshotEntity>?> ChainAsync(VirtApiDbContext db, SnapshotEntity snapshot, CancellationToken cancellationToken)
    {
        var chain = new List<SnapshotEntity> { snapshot };
        while (chain[^1].ParentId is { } parentId)
        {
            var parent = await db.Snapshots.AsNoTracking().FirstOrDefaultAsync(s => s.Id == parentId, cancellationToken);
            if (parent is null || chain.Count > 10_000)
            {
                return null;
            }
            chain.Add(parent);
        }
        chain.Reverse();
        return chain;
    }

    /// <summary>The diffs whose parent is <paramref name="id"/>.</summary>
    public static Task<List<SnapshotEntity>> DependantsAsync(VirtApiDbContext db, Guid id, CancellationToken cancellationToken) =>
        db.Snapshots.AsNoTracking().Where(s => s.ParentId == id).OrderBy(s => s.CreatedAt).ToListAsync(cancellationToken);

    /// <summary>
    /// Deletes the snapshot, its page map, and every stored page no other snapshot references, in one
    /// transaction. Returns the dependants instead (and deletes nothing) when diffs still need it.
    /// </summary>
    public async Task<(IReadOnlyList<SnapshotEntity> Dependants, int PagesFreed)> DeleteAsync(VirtApiDbContext db, Guid id, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var dependants = await DependantsAsync(db, id, cancellationToken);
            if (dependants.Count > 0)
            {
                return (dependants, 0);
            }
            await db.SnapshotPages.Where(m => m.SnapshotId == id).ExecuteDeleteAsync(cancellationToken);
            await db.Snapshots.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
            var freed = await db.Pages.Where(p => !db.SnapshotPages.Any(m => m.PageHash == p.Hash)).ExecuteDeleteAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return ([], freed);
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>
    /// Adds a parsed export file's chain in one transaction: its image (matched by content, or added
    /// under its name, suffixed if the name is taken), its pages (those not stored yet), and each of its
    /// snapshots under a new id, parents linked. The snapshots keep the id of the VM they were taken of.
    /// </summary>
    public async Task<SnapshotImport> ImportAsync(VirtApiDbContext db, SnapshotArchive.Archive archive, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var (imageId, imageCreated) = await ImportImageAsync(db, archive.Header.Image, now, cancellationToken);
            var stored = await ExistingAsync(db, archive.Pages.Select(p => p.Hash), cancellationToken);
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            var chain = new List<SnapshotEntity>();
            Guid? parent = null;
            foreach (var saved in archive.Header.Snapshots)
            {
                var snapshot = new SnapshotEntity
                {
                    Id = Guid.CreateVersion7(now),
                    Name = saved.Name,
                    Kind = saved.Kind,
                    ParentId = parent,
                    VmId = saved.VmId,
                    VmName = saved.VmName,
                    ImageId = imageId,
                    Vcpus = saved.Vcpus,
                    MemoryMiB = saved.MemoryMiB,
                    CpuMode = saved.CpuMode,
                    CpuProfile = saved.CpuProfile,
                    MemoryMode = saved.MemoryMode,
                    InstructionBudget = saved.InstructionBudget,
                    VmState = saved.VmState,
                    InstructionsRetired = saved.InstructionsRetired,
                    FormatVersion = saved.FormatVersion,
                    MachineState = saved.MachineState,
                    MachineStateHash = saved.MachineStateHash,
                    CreatedAt = now,
                    PagesReferenced = saved.PageIndexes.Count(i => i >= 0),
                    ZeroPages = saved.PageIndexes.Count(i => i < 0),
                    BytesStored = saved.MachineState?.LongLength ?? 0,
                };
                for (var i = 0; i < saved.Frames.Length; i++)
                {
                    var page = saved.PageIndexes[i] >= 0 ? archive.Pages[saved.PageIndexes[i]] : null;
                    if (page is not null && stored.Add(page.Hash))
                    {
                        db.Pages.Add(new StoredPageEntity { Hash = page.Hash, Data = page.Data, Compressed = page.Compressed });
                        snapshot.PagesNewlyStored++;
                        snapshot.BytesStored += page.Data.Length;
                    }
                    db.SnapshotPages.Add(new SnapshotPageEntity { SnapshotId = snapshot.Id, GuestFrame = saved.Frames[i], PageHash = page?.Hash });
                }
                db.Snapshots.Add(snapshot);
                chain.Add(snapshot);
                parent = snapshot.Id;
            }
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new SnapshotImport(chain, imageId, imageCreated);
        }
        finally
        {
            db.ChangeTracker.Clear();
            db.ChangeTracker.AutoDetectChangesEnabled = true;
            _writer.Release();
        }
    }

    private static async Task<(Guid Id, bool Created)> ImportImageAsync(VirtApiDbContext db, SnapshotArchive.ArchiveImage image, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var length = image.Content.Length;
        var candidates = await db.Images.AsNoTracking().Where(i => i.Content.Length == length).ToListAsync(cancellationToken);
        if (candidates.FirstOrDefault(i => i.Content.AsSpan().SequenceEqual(image.Content)) is { } same)
        {
            return (same.Id, false);
        }
        var id = Guid.CreateVersion7(now);
        var name = image.Name;
        if (await db.Images.AnyAsync(i => i.Name == name, cancellationToken))
        {
            var suffix = "-" + id.ToString("N")[^8..];
            name = name[..Math.Min(name.Length, 63 - suffix.Length)].TrimEnd('-') + suffix;
        }
        db.Images.Add(new ImageEntity { Id = id, Name = name, Format = image.Format, Source = image.Source, Content = image.Content, CreatedAt = now });
        return (id, true);
    }

    /// <summary>The hashes of <paramref name="hashes"/> the store holds already.</summary>
    private static async Task<HashSet<string>> ExistingAsync(VirtApiDbContext db, IEnumerable<string> hashes, CancellationToken cancellationToken)
    {
        var existing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in hashes.Chunk(LookupChunk))
        {
            existing.UnionWith(await db.Pages.AsNoTracking().Where(p => chunk.Contains(p.Hash)).Select(p => p.Hash).ToListAsync(cancellationToken));
        }
        return existing;
    }
}

/// <summary>A snapshot read back for a restore: its machine state (null when it has none) and its pages, or what is damaged.</summary>
public sealed record SnapshotLoad(VmSnapshotState? State, IReadOnlyList<GuestPage> Pages, SnapshotDamage? Damage)
{
    public static SnapshotLoad Damaged(SnapshotDamage damage) => new(null, [], damage);
}

/// <summary>What an import added: the chain (root first) and the image its snapshots run.</summary>
public sealed record SnapshotImport(IReadOnlyList<SnapshotEntity> Chain, Guid ImageId, bool ImageCreated);

/// <summary>What is wrong with a stored snapshot: in which snapshot of the chain, which guest page (if a page), and why.</summary>
public sealed record SnapshotDamage(Guid SnapshotId, ulong? GuestAddress, string? Hash, string Reason);
