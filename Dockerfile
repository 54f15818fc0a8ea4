# The hookyard service image: build stage on Debian bookworm, runtime with buildah inside.
# docker build -t hookyard . && docker run --privileged -v $PWD/hookyard.yaml:/etc/hookyard/hookyard.yaml \
#   -v hookyard-data:/var/lib/hookyard -p 8080:8080 hookyard
# (--privileged, or the capabilities buildah's chroot isolation needs, because builds run inside.)
FROM debian:bookworm AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential cmake pkg-config libboost1.81-dev libboost-url1.81-dev libgit2-dev nlohmann-json3-dev \
      libssl-dev libyaml-cpp-dev libsqlite3-dev libgtest-dev libgmock-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DHOOKYARD_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" --target hookyard \
 && strip /build/hookyard

FROM debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      buildah ca-certificates git libboost-url1.81.0 libgit2-1.5 libssl3 libyaml-cpp0.7 libsqlite3-0 skopeo tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/hookyard /usr/local/bin/hookyard
ENV HOOKYARD_DATA_DIR=/var/lib/hookyard
VOLUME ["/var/lib/hookyard", "/var/lib/containers"]
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/hookyard"]
CMD ["serve", "-c", "/etc/hookyard/hookyard.yaml"]
