using Microsoft.EntityFrameworkCore;
using VirtApi.Persistence.Entities;

namespace VirtApi.Persistence;

/// <summary>The service's SQLite database: hosts, images and VMs; snapshots and migrations as they arrive.</summary>
public sealed class VirtApiDbContext(DbContextOptions<VirtApiDbContext> options) : DbContext(options)
{
    public DbSet<HostEntity> Hosts => Set<HostEntity>();

    public DbSet<HostDeviceEntity> HostDevices => Set<HostDeviceEntity>();

    public DbSet<ImageEntity> Images => Set<ImageEntity>();

    public DbSet<VmEntity> Vms => Set<VmEntity>();

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
