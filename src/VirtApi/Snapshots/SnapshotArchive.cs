using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using VirtApi.Devices;
using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;
using VirtApi.Vms;

namespace VirtApi.Snapshots;

/// <summary>
/// The export file: one snapshot with its whole chain, its image and every page it needs, so that
/// another server can import and clone it. Layout (little-endian), version 2:
/// <code>
/// "VIRTSNAP"            8 bytes
/// version               u32
/// header length, header u32, UTF-8 JSON (<see cref="ArchiveHeader"/>)
/// page count            u32
/// pages                 each: SHA-256 (32 bytes), compressed (u8), length (u32), stored bytes
/// checksum              SHA-256 of everything before it (32 bytes)
/// </code>
/// Pages appear once however many snapshots reference them; zero pages not at all. Version 2 added
/// each snapshot's device list to the header; the header's JSON is strict (an unknown field is an
/// error), so a version 1 server must be told by the version, not by a parse failure. Version 1
/// files, without devices, are still read.
/// </summary>
public static class SnapshotArchive
{
    public const string ContentType = "application/octet-stream";
    public const int Version = 2;

    /// <summary>The oldest version this server reads.</summary>
    public const int OldestVersion = 1;
    private static readonly byte[] Magic = "VIRTSNAP"u8.ToArray();

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) },
    };

    /// <summary>The file's header: the image and the chain, root first, each with its page map into the file's pages.</summary>
    public sealed record ArchiveHeader(ArchiveImage Image, IReadOnlyList<ArchiveSnapshot> Snapshots);

    public sealed record ArchiveImage(string Name, ImageFormat Format, string? Source, byte[] Content);

    /// <summary>One snapshot of the chain; <c>PageIndexes[i]</c> is the file page of guest frame <c>Frames[i]</c>, or -1 for a zero page.</summary>
    public sealed record ArchiveSnapshot(
        Guid Id,
        string Name,
        SnapshotKind Kind,
        Guid? ParentId,
        Guid VmId,
        string VmName,
        int Vcpus,
        int MemoryMiB,
        CpuMode CpuMode,
        CpuProfile CpuProfile,
        MemoryMode MemoryMode,
        long? InstructionBudget,
        VmState VmState,
        long InstructionsRetired,
        int FormatVersion,
        byte[]? MachineState,
        string? MachineStateHash,
        DateTimeOffset CreatedAt,
        long[] Frames,
        int[] PageIndexes,
        IReadOnlyList<ArchiveDevice>? Devices = null);

    /// <summary>A device of a snapshot's VM (version 2).</summary>
    public sealed record ArchiveDevice(DeviceKind Kind, DeviceModel Model, int Slot, string Name, int? SizeMiB);

    /// <summary>A file's device list as a snapshot stores it (none for a version 1 file).</summary>
    public static List<SnapshotDevice> ToEntities(IReadOnlyList<ArchiveDevice>? devices) =>
        [.. (devices ?? []).Select(d => new SnapshotDevice { Kind = d.Kind, Model = d.Model, Slot = d.Slot, Name = d.Name, SizeMiB = d.SizeMiB })];

    /// <summary>A page as the file holds it.</summary>
    public sealed record ArchivePage(string Hash, bool Compressed, byte[] Data);

    /// <summary>A parsed, checked file.</summary>
    public sealed record Archive(ArchiveHeader Header, IReadOnlyList<ArchivePage> Pages);

    /// <summary>The file for <paramref name="snapshot"/>'s chain, every page checked on the way; or the damage that stops it.</summary>
    public static async Task<(byte[]? File, SnapshotDamage? Damage)> ExportAsync(VirtApiDbContext db, SnapshotEntity snapshot, CancellationToken cancellationToken)
    {
        var chain = await SnapshotStore.ChainAsync(db, snapshot, cancellationToken);
        if (chain is null)
        {
            return (null, new SnapshotDamage(snapshot.Id, null, null, $"a snapshot in the chain of '{snapshot.Name}' is missing"));
        }
        var image = await db.Images.AsNoTracking().FirstAsync(i => i.Id == snapshot.ImageId, cancellationToken);
        var pageIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var snapshots = new List<ArchiveSnapshot>();
        foreach (var link in chain)
        {
            if (PageMapCodec.Decode(link.PageMap) is not { } entries)
            {
                return (null, new SnapshotDamage(link.Id, null, null, $"the page map of snapshot '{link.Name}' is damaged"));
            }
            var indexes = new int[entries.Count];
            for (var i = 0; i < entries.Count; i++)
            {
                indexes[i] = entries[i].Hash is { } hash ? IndexOf(pageIndex, hash) : -1;
            }
            snapshots.Add(new ArchiveSnapshot(
                link.Id, link.Name, link.Kind, link.ParentId, link.VmId, link.VmName, link.Vcpus, link.MemoryMiB, link.CpuMode, link.CpuProfile, link.MemoryMode,
                link.InstructionBudget, link.VmState, link.InstructionsRetired, link.FormatVersion, link.MachineState, link.MachineStateHash, link.CreatedAt,
                [.. entries.Select(e => e.GuestFrame)], indexes,
                [.. link.Devices.Select(d => new ArchiveDevice(d.Kind, d.Model, d.Slot, d.Name, d.SizeMiB))]));
        }
        var pages = new ArchivePage?[pageIndex.Count];
        foreach (var (hash, row) in await SnapshotStore.ReadPagesAsync(db, pageIndex.Keys, cancellationToken))
        {
            pages[pageIndex[hash]] = new ArchivePage(hash, row.Compressed, row.Data);
        }
        foreach (var (hash, index) in pageIndex)
        {
            if (pages[index] is not { } page || PageCodec.Decode(page.Data, page.Compressed, hash) is null)
            {
                return (null, new SnapshotDamage(snapshot.Id, null, hash, $"page sha256 {hash} is {(pages[index] is null ? "missing from the page store" : "damaged: its stored bytes do not hash to it")}"));
            }
        }
        var header = new ArchiveHeader(new ArchiveImage(image.Name, image.Format, image.Source, image.Content), snapshots);
        return (Write(header, [.. pages.Select(p => p!)]), null);
    }

    private static int IndexOf(Dictionary<string, int> index, string hash)
    {
        if (!index.TryGetValue(hash, out var at))
        {
            at = index.Count;
            index[hash] = at;
        }
        return at;
    }

    private static byte[] Write(ArchiveHeader header, IReadOnlyList<ArchivePage> pages)
    {
        using var output = new MemoryStream();
        output.Write(Magic);
        WriteUInt32(output, Version);
        var json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
        WriteUInt32(output, (uint)json.Length);
        output.Write(json);
        WriteUInt32(output, (uint)pages.Count);
        foreach (var page in pages)
        {
            output.Write(Convert.FromHexString(page.Hash));
            output.WriteByte(page.Compressed ? (byte)1 : (byte)0);
            WriteUInt32(output, (uint)page.Data.Length);
            output.Write(page.Data);
        }
        output.Write(SHA256.HashData(output.GetBuffer().AsSpan(0, (int)output.Length)));
        return output.ToArray();
    }

    private static void WriteUInt32(Stream output, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        output.Write(bytes);
    }

    /// <summary>The file checked from end to end (checksum, version, chain, every page's hash, every machine state); or what is wrong with it.</summary>
    public static (Archive? Archive, string? Error) Parse(byte[] file)
    {
        if (file.Length < Magic.Length + 4 + 32 || !file.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            return (null, "the body is not a VirtApi snapshot file (it does not start with VIRTSNAP)");
        }
        var version = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(Magic.Length));
        if (version is < OldestVersion or > Version)
        {
            return (null, $"the file is snapshot file version {version}; this server reads versions {OldestVersion} to {Version}");
        }
        var body = file.AsSpan(0, file.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(file.AsSpan(file.Length - 32)))
        {
            return (null, "the file is damaged or truncated: its checksum does not match its contents");
        }
        var at = Magic.Length + 4;
        if (!TryReadUInt32(body, ref at, out var headerLength) || headerLength > body.Length - at)
        {
            return (null, "the file's header is truncated");
        }
        ArchiveHeader? header;
        try
        {
            header = JsonSerializer.Deserialize<ArchiveHeader>(body.Slice(at, (int)headerLength), Json);
        }
        catch (JsonException exception)
        {
            return (null, $"the file's header is not valid: {exception.Message}");
        }
        at += (int)headerLength;
        if (header is null)
        {
            return (null, "the file's header is empty");
        }
        if (!TryReadUInt32(body, ref at, out var pageCount))
        {
            return (null, "the file's page table is truncated");
        }
        var pages = new List<ArchivePage>();
        for (var i = 0u; i < pageCount; i++)
        {
            if (body.Length - at < 37)
            {
                return (null, $"page {i} of the file is truncated");
            }
            var hash = Convert.ToHexStringLower(body.Slice(at, 32));
            var compressed = body[at + 32] != 0;
            at += 33;
            TryReadUInt32(body, ref at, out var length);
            if (length > body.Length - at)
            {
                return (null, $"page {i} of the file is truncated");
            }
            var data = body.Slice(at, (int)length).ToArray();
            at += (int)length;
            if (PageCodec.Decode(data, compressed, hash) is null)
            {
                return (null, $"page {i} of the file (sha256 {hash}) is damaged: its bytes do not hash to it");
            }
            pages.Add(new ArchivePage(hash, compressed, data));
        }
        if (at != body.Length)
        {
            return (null, "the file has bytes after its last page");
        }
        return CheckChain(header, pages.Count, version) is { } error ? (null, error) : (new Archive(header, pages), null);
    }

    private static bool TryReadUInt32(ReadOnlySpan<byte> body, ref int at, out uint value)
    {
        value = 0;
        if (body.Length - at < 4)
        {
            return false;
        }
        value = BinaryPrimitives.ReadUInt32LittleEndian(body[at..]);
        at += 4;
        return true;
    }

    /// <summary>The chain must start with a full snapshot, each diff's parent the one before it, every page index and definition valid, every machine state readable.</summary>
    private static string? CheckChain(ArchiveHeader header, int pageCount, uint version)
    {
        if (header.Snapshots.Count == 0)
        {
            return "the file holds no snapshot";
        }
        if (Names.CheckDnsLabel(header.Image.Name) is not null || header.Image.Content.Length == 0)
        {
            return "the file's image has no valid name or no content";
        }
        for (var i = 0; i < header.Snapshots.Count; i++)
        {
            var s = header.Snapshots[i];
            var where = $"snapshot {i} ('{s.Name}')";
            if (i == 0 ? s.Kind != SnapshotKind.Full || s.ParentId is not null : s.Kind != SnapshotKind.Diff || s.ParentId != header.Snapshots[i - 1].Id)
            {
                return $"{where} does not continue the chain: it must be {(i == 0 ? "a full snapshot without a parent" : $"a diff whose parent is {header.Snapshots[i - 1].Id}")}";
            }
            if (SnapshotRules.CheckName(s.Name) is { } nameError)
            {
                return $"{where}: name {nameError}";
            }
            if (VmRules.Validate(s.VmName, s.Vcpus, s.MemoryMiB, s.InstructionBudget, nameRequired: true) is { Count: > 0 } errors)
            {
                return $"{where}: {string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}"))}";
            }
            if (s.Frames.Length != s.PageIndexes.Length || s.PageIndexes.Any(p => p < -1 || p >= pageCount)
                || s.Frames.Any(f => f < 0 || (ulong)f << 12 < VmRules.RamBase || ((ulong)f << 12) - VmRules.RamBase >= (ulong)s.MemoryMiB << 20))
            {
                return $"{where} has a page map entry outside its guest RAM or the file's pages";
            }
            if (version < 2 && s.Devices is not null)
            {
                return $"{where} has devices, which a version {version} file cannot hold";
            }
            if (DeviceRules.CheckSaved(ToEntities(s.Devices)) is { } deviceError)
            {
                return $"{where}: {deviceError}";
            }
            if (s.FormatVersion != SnapshotFormat.Version)
            {
                return $"{where} holds machine state format {s.FormatVersion}; this server reads format {SnapshotFormat.Version}";
            }
            if ((s.MachineState is null) != (s.MachineStateHash is null))
            {
                return $"{where} has a machine state without its hash, or a hash without a state";
            }
            if (s.MachineState is not null)
            {
                var json = PageCodec.DecompressState(s.MachineState, s.MachineStateHash!);
                if (json is null)
                {
                    return $"{where}: the machine state is damaged: it does not hash to its recorded sha256";
                }
                try
                {
                    SnapshotFormat.Deserialize(json);
                }
                catch (SnapshotFormatException exception)
                {
                    return $"{where}: {exception.Message}";
                }
            }
        }
        return null;
    }
}
