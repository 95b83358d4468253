using Microsoft.EntityFrameworkCore;
using VirtApi.Persistence.Entities;

namespace VirtApi.Persistence;

/// <summary>The service's SQLite database: hosts, images, VMs with their devices, snapshots with their page store, and migrations.</summary>
public sealed class VirtApiDbContext(DbContextOptions<VirtApiDbContext> options) : DbContext(options)
{
    public DbSet<HostEntity> Hosts => Set<HostEntity>();

    public DbSet<HostDeviceEntity> HostDevices => Set<HostDeviceEntity>();

    public DbSet<ImageEntity> Images => Set<ImageEntity>();

    public DbSet<VmEntity> Vms => Set<VmEntity>();

    public DbSet<VmDeviceEntity> VmDevices => Set<VmDeviceEntity>();

    public DbSet<SnapshotEntity> Snapshots => Set<SnapshotEntity>();

    public DbSet<StoredPageEntity> Pages => Set<StoredPageEntity>();

    public DbSet<PageReferenceEntity> PageRefs => Set<PageReferenceEntity>();

    public DbSet<MigrationEntity> Migrations => Set<MigrationEntity>();

    public DbSet<MigrationRoundEntity> MigrationRounds => Set<MigrationRoundEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(VirtApiDbContext).Assembly);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no native DateTimeOffset ordering; storing UTC ticks keeps ORDER BY correct.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverterUtc>();
    }
}

/// <summary>Stores a <see cref="DateTimeOffset"/> as UTC ticks so SQLite sorts and compares it.</summary>
internal sealed class DateTimeOffsetToBinaryConverterUtc()
    : Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTimeOffset, long>(
        v => v.UtcTicks,
        v => new DateTimeOffset(v, TimeSpan.Zero));
