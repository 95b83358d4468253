using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
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
    private readonly SemaphoreSlim _writer = new(1, 1);

    public void Dispose() => _writer.Dispose();

    /// <summary>
    /// Stores <paramref name="snapshot"/> (its definition fields set by the caller) with the capture's
    /// machine state and pages: pages already in the store are referenced, new ones added, zero pages
    /// only recorded. Fills in the snapshot's counts. False when a diff's parent no longer exists.
    /// </summary>
    public async Task<bool> SaveAsync(VirtApiDbContext db, SnapshotEntity snapshot, VmCapture? machine, CancellationToken cancellationToken)
    {
        // Hashing is the expensive part that every page needs; it needs no lock and uses every core.
        var pages = machine?.Pages ?? [];
        var hashes = new string?[pages.Length];
        Parallel.For(0, pages.Length, i => hashes[i] = pages[i].IsZero ? null : PageCodec.Hash(pages[i].Bytes));
        if (machine is not null)
        {
            var json = SnapshotFormat.Serialize(machine.State);
            snapshot.MachineState = PageCodec.CompressState(json);
            snapshot.MachineStateHash = PageCodec.Hash(json);
        }
        snapshot.FormatVersion = SnapshotFormat.Version;
        snapshot.PagesReferenced = hashes.Count(h => h is not null);
        snapshot.ZeroPages = pages.Length - snapshot.PagesReferenced;

        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (snapshot.ParentId is { } parent && !await db.Snapshots.AnyAsync(s => s.Id == parent, cancellationToken))
            {
                return false;
            }
            // Only pages the store does not hold yet are compressed and written.
            var firstOf = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < hashes.Length; i++)
            {
                if (hashes[i] is { } hash)
                {
                    firstOf.TryAdd(hash, i);
                }
            }
            var stored = await ExistingAsync(db, firstOf.Keys, cancellationToken);
            var fresh = firstOf.Where(f => !stored.Contains(f.Key)).Select(f => f.Value).ToArray();
            var encoded = new PageCodec.EncodedPage[fresh.Length];
            Parallel.For(0, fresh.Length, i => encoded[i] = PageCodec.Encode(hashes[fresh[i]]!, pages[fresh[i]].Bytes));
            snapshot.PagesNewlyStored = encoded.Length;
            snapshot.BytesStored = (snapshot.MachineState?.LongLength ?? 0) + encoded.Sum(e => (long)e.Data.Length);

            snapshot.PageMap = PageMapCodec.Encode([.. pages.Select((page, i) => new PageMapCodec.Entry((long)(page.Address >> SparseRam.FrameShift), hashes[i]))]);
            db.Snapshots.Add(snapshot);
            await db.SaveChangesAsync(cancellationToken);
            InsertPages(db, encoded.Select(e => (e.Hash, e.Data, e.Compressed)));
            await ReferenceAsync(db, firstOf.Keys, +1, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }
        finally
        {
            db.ChangeTracker.Clear();
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
            if (PageMapCodec.Decode(link.PageMap) is not { } entries)
            {
                return SnapshotLoad.Damaged(new SnapshotDamage(link.Id, null, null, $"the page map of snapshot '{link.Name}' is damaged"));
            }
            foreach (var entry in entries)
            {
                map[entry.GuestFrame] = (entry.Hash, link.Id);
            }
        }
        var stored = await ReadPagesAsync(db, map.Values.Where(v => v.Hash is not null).Select(v => v.Hash!).Distinct(StringComparer.Ordinal), cancellationToken);
        var decoded = new ConcurrentDictionary<string, byte[]?>(StringComparer.Ordinal);
        Parallel.ForEach(stored, row => decoded[row.Key] = PageCodec.Decode(row.Value.Data, row.Value.Compressed, row.Key));
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
        // One recursive query up the parent links rather than a round trip per link. A missing parent
        // (or a chain longer than 10,000) leaves a first snapshot that still has a parent.
        var chain = await db.Snapshots.FromSql($"""
            WITH RECURSIVE Chain(Id, Depth) AS (
                SELECT {snapshot.Id}, 0
                UNION ALL
                SELECT s.ParentId, c.Depth + 1 FROM Snapshots s JOIN Chain c ON s.Id = c.Id
                WHERE s.ParentId IS NOT NULL AND c.Depth < 10000)
            SELECT s.* FROM Snapshots s JOIN Chain c ON s.Id = c.Id ORDER BY c.Depth DESC
            """).AsNoTracking().ToListAsync(cancellationToken);
        return chain is [{ ParentId: null }, ..] ? chain : null;
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
            var map = await db.Snapshots.Where(s => s.Id == id).Select(s => s.PageMap).FirstAsync(cancellationToken);
            var referenced = (PageMapCodec.Decode(map) ?? []).Where(e => e.Hash is not null).Select(e => e.Hash!).Distinct(StringComparer.Ordinal);
            await ReferenceAsync(db, referenced, -1, cancellationToken);
            await db.Snapshots.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
            var freed = await db.Pages.Where(p => db.PageRefs.Any(r => r.Hash == p.Hash && r.RefCount <= 0)).ExecuteDeleteAsync(cancellationToken);
            await db.PageRefs.Where(r => r.RefCount <= 0).ExecuteDeleteAsync(cancellationToken);
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
            var chain = new List<SnapshotEntity>();
            var references = new List<List<string>>();
            var newPages = new List<(string, byte[], bool)>();
            Guid? parent = null;
            foreach (var saved in archive.Header.Snapshots)
            {
                var entries = new List<PageMapCodec.Entry>(saved.Frames.Length);
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
                    Devices = SnapshotArchive.ToEntities(saved.Devices),
                    VmState = saved.VmState,
                    InstructionsRetired = saved.InstructionsRetired,
                    FormatVersion = saved.FormatVersion,
                    MachineState = saved.MachineState,
                    MachineStateHash = saved.MachineStateHash,
                    CreatedAt = now,
                    PagesReferenced = saved.PageIndexes.Count(i => i >= 0),
                    ZeroPages = saved.PageIndexes.Count(i => i < 0),
                    BytesStored = saved.MachineState?.LongLength ?? 0,
                    PageMap = [],
                };
                for (var i = 0; i < saved.Frames.Length; i++)
                {
                    var page = saved.PageIndexes[i] >= 0 ? archive.Pages[saved.PageIndexes[i]] : null;
                    if (page is not null && stored.Add(page.Hash))
                    {
                        newPages.Add((page.Hash, page.Data, page.Compressed));
                        snapshot.PagesNewlyStored++;
                        snapshot.BytesStored += page.Data.Length;
                    }
                    entries.Add(new PageMapCodec.Entry(saved.Frames[i], page?.Hash));
                }
                snapshot.PageMap = PageMapCodec.Encode(entries);
                references.Add([.. entries.Where(e => e.Hash is not null).Select(e => e.Hash!).Distinct(StringComparer.Ordinal)]);
                db.Snapshots.Add(snapshot);
                chain.Add(snapshot);
                parent = snapshot.Id;
            }
            await db.SaveChangesAsync(cancellationToken);
            InsertPages(db, newPages);
            foreach (var hashes in references)
            {
                await ReferenceAsync(db, hashes, +1, cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            return new SnapshotImport(chain, imageId, imageCreated);
        }
        finally
        {
            db.ChangeTracker.Clear();
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

    /// <summary>Adds pages to the store with no references yet (the caller references them next).</summary>
    private static void InsertPages(VirtApiDbContext db, IEnumerable<(string Hash, byte[] Data, bool Compressed)> pages)
    {
        var sqlite = Sqlite(db);
        using var insert = sqlite.Command("INSERT INTO Pages (Hash, Data, Compressed) VALUES ($hash, $data, $compressed)", "$hash", "$data", "$compressed");
        using var reference = sqlite.Command("INSERT INTO PageRefs (Hash, RefCount) VALUES ($hash, 0)", "$hash");
        foreach (var (hash, data, compressed) in pages)
        {
            insert.Run(hash, data, compressed);
            reference.Run(hash);
        }
    }

    /// <summary>Adds <paramref name="delta"/> to the reference count of every page in <paramref name="hashes"/> (distinct), in one statement.</summary>
    private static async Task ReferenceAsync(VirtApiDbContext db, IEnumerable<string> hashes, int delta, CancellationToken cancellationToken)
    {
        using var update = Sqlite(db).Command("UPDATE PageRefs SET RefCount = RefCount + $delta WHERE Hash IN (SELECT value FROM json_each($hashes))", "$delta", "$hashes");
        await update.RunAsync(cancellationToken, delta, System.Text.Json.JsonSerializer.Serialize(hashes));
    }

    /// <summary>The stored rows of the pages in <paramref name="hashes"/> (missing ones are absent), in one statement.</summary>
    public static async Task<Dictionary<string, (byte[] Data, bool Compressed)>> ReadPagesAsync(VirtApiDbContext db, IEnumerable<string> hashes, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, (byte[] Data, bool Compressed)>(StringComparer.Ordinal);
        using var read = Sqlite(db).Command("SELECT p.Hash, p.Data, p.Compressed FROM json_each($hashes) j JOIN Pages p ON p.Hash = j.value", "$hashes");
        await using var reader = await read.ReadAsync(cancellationToken, System.Text.Json.JsonSerializer.Serialize(hashes));
        while (await reader.ReadAsync(cancellationToken))
        {
            rows[reader.GetString(0)] = ((byte[])reader.GetValue(1), reader.GetBoolean(2));
        }
        return rows;
    }

    private static SqliteStatements Sqlite(VirtApiDbContext db) => new(db);

    /// <summary>The hashes of <paramref name="hashes"/> the store holds already (one statement, over a JSON array of them).</summary>
    private static async Task<HashSet<string>> ExistingAsync(VirtApiDbContext db, IEnumerable<string> hashes, CancellationToken cancellationToken)
    {
        var existing = new HashSet<string>(StringComparer.Ordinal);
        using var lookup = Sqlite(db).Command("SELECT p.Hash FROM json_each($hashes) j JOIN Pages p ON p.Hash = j.value", "$hashes");
        await using var reader = await lookup.ReadAsync(cancellationToken, System.Text.Json.JsonSerializer.Serialize(hashes));
        while (await reader.ReadAsync(cancellationToken))
        {
            existing.Add(reader.GetString(0));
        }
        return existing;
    }
}

/// <summary>
/// Prepared statements on the context's own connection and transaction. The page store moves tens of
/// thousands of rows per snapshot; EF Core's change tracker costs seconds for that, a prepared SQLite
/// statement milliseconds (docs/decisions.md 12). The schema is still EF Core's, from its migrations.
/// </summary>
internal readonly struct SqliteStatements(VirtApiDbContext db)
{
    public Statement Command(string sql, params string[] parameters)
    {
        var command = (SqliteCommand)db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        command.Transaction = (SqliteTransaction?)db.Database.CurrentTransaction?.GetDbTransaction();
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        return new Statement(command);
    }

    public sealed class Statement(SqliteCommand command) : IDisposable
    {
        /// <summary>Executes the statement with these parameter values, in order.</summary>
        public void Run(params object[] values)
        {
            Bind(values);
            command.ExecuteNonQuery();
        }

        public async Task RunAsync(CancellationToken cancellationToken, params object[] values)
        {
            Bind(values);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        public async Task<SqliteDataReader> ReadAsync(CancellationToken cancellationToken, params object[] values)
        {
            if (command.Connection!.State != System.Data.ConnectionState.Open)
            {
                await command.Connection.OpenAsync(cancellationToken);
            }
            Bind(values);
            return await command.ExecuteReaderAsync(cancellationToken);
        }

        private void Bind(object[] values)
        {
            for (var i = 0; i < values.Length; i++)
            {
                command.Parameters[i].Value = values[i];
            }
        }

        public void Dispose() => command.Dispose();
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
